// The stages' public objects, as the edges (HTTP, SMTP, CLI) see them. Built
// in one place, src/app.ts.
import type { Keys } from './accounts/keys.ts';
import type { Tenants } from './accounts/tenants.ts';
import type { Domains } from './accounts/domains.ts';
import type { Streams } from './accounts/streams.ts';
import type { Transactional } from './campaigns/transactional.ts';
import type { Sandbox } from './delivery/sandbox.ts';
import type { Audience } from './audience/index.ts';
import type { Profiles } from './accounts/profile.ts';
import type { Campaigns } from './campaigns/index.ts';
import type { Resolver } from './net/resolver.ts';

export interface Services {
  keys: Keys;
  tenants: Tenants;
  domains: Domains;
  streams: Streams;
  transactional: Transactional;
  sandbox: Sandbox;
  audience: Audience;
  profiles: Profiles;
  campaigns: Campaigns;
  /** the platform resolver (configured servers, or the system's) */
  resolver: Resolver;
  /** base URL of public pages and links, without a trailing slash */
  publicUrl(): string;
}
