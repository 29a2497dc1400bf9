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
import type { Webhooks } from './webhooks/index.ts';
import type { Faults } from './delivery/faults.ts';
import type { Warmup } from './delivery/warmup.ts';
import type { Reputation } from './reputation/index.ts';
import type { Doctor } from './doctor/index.ts';
import type { Feedback } from './feedback/index.ts';

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
  /** inbound bounces, complaints, abuse@ reports and mailto unsubscribes */
  feedback: Feedback;
  /** outgoing webhooks: tenants' endpoints and their deliveries */
  webhooks: Webhooks;
  /** the platform resolver (configured servers, or the system's) */
  resolver: Resolver;
  /** base URL of public pages and links, without a trailing slash */
  publicUrl(): string;
  /** configuration faults of sending domains reported by receivers (GM-11) */
  faults: Faults;
  /** warm-up ramps per (IP pool, sending domain, provider) (GM-13) */
  warmup: Warmup;
  /** indicators, thresholds that act, bulk status, tenant review and suspension (MJ-1, MJ-10, GM-1, GM-10, GM-14) */
  reputation: Reputation;
  /** checks of each sending domain's DNS and infrastructure, the preflight, the marketing gate (issue 8) */
  doctor: Doctor;
}
