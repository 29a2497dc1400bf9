// The tables, as Kysely sees them. Each stage owns its tables (ARCHITECTURE.md);
// this file only declares their shape so one typed query layer serves both
// dialects. Times are epoch milliseconds (INTEGER on SQLite, BIGINT on
// PostgreSQL, parsed back to number), booleans are 0/1 integers on both, so
// the same query returns the same values whatever the dialect.
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface TenantTable {
  id: string;
  name: string;
  /** review | active | suspended (MJ-10 fills in the ladder later) */
  status: string;
  created_at: number;
}

export interface ApiKeyTable {
  /** the public half of the credential (username in Basic/SMTP AUTH) */
  id: string;
  /** null for operator keys */
  tenant_id: string | null;
  role: 'operator' | 'tenant';
  label: string;
  /** sha256 of the secret: secrets are 256-bit random, so a slow hash adds nothing */
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface DomainTable {
  id: string;
  tenant_id: string;
  /** ASCII (punycode) form, lower case */
  name: string;
  verified: number;
  created_at: number;
}

export interface DkimKeyTable {
  id: string;
  domain_id: string;
  selector: string;
  algorithm: 'rsa-sha256' | 'ed25519-sha256';
  /** the p= value of the DNS record */
  public_key: string;
  /** AES-256-GCM under the configured secret key, see accounts/secrets.ts */
  private_key_enc: string;
  active: number;
  created_at: number;
}

export interface StreamTable {
  id: string;
  tenant_id: string;
  name: string;
  kind: 'transactional' | 'marketing';
  /** the fixed From of the stream (AF-14, AF-19), optional */
  from_address: string | null;
  /** label of the bounce (return-path) subdomain under the sending domain */
  bounce_label: string;
  ip_pool: string;
  created_at: number;
}

export interface MessageTable {
  id: string;
  tenant_id: string;
  stream_id: string;
  domain_id: string;
  /** the Message-ID header, without angle brackets */
  message_id: string;
  from_address: string;
  subject: string;
  custom_id: string | null;
  campaign_id: string | null;
  /** the signed message, byte for byte what goes on the wire */
  raw: Buffer;
  size: number;
  created_at: number;
}

export interface RecipientTable {
  id: string;
  message_id: string;
  tenant_id: string;
  address: string;
  /** to | cc | bcc */
  kind: string;
  /** the VERP envelope sender for this recipient */
  envelope_from: string;
  /** queued | delivered | deferred | bounced | blocked | expired */
  status: string;
  attempts: number;
  next_attempt_at: number;
  /** lease for scale-out workers: until this time the row belongs to locked_by */
  locked_until: number | null;
  locked_by: string | null;
  updated_at: number;
  /** set for campaign recipients, composed at dispatch time */
  campaign_id: string | null;
  contact_id: string | null;
  list_id: string | null;
}

export interface EventTable {
  id: Generated<number>;
  tenant_id: string;
  message_id: string | null;
  recipient_id: string | null;
  type: string;
  at: number;
  /** JSON object */
  data: string;
}

export interface SandboxMessageTable {
  id: string;
  tenant_id: string;
  message_id: string;
  recipient_id: string;
  mail_from: string;
  rcpt_to: string;
  created_at: number;
  /** campaign captures: the message as composed at dispatch (transactional ones use messages.raw) */
  raw: Buffer | null;
}

export interface IdempotencyKeyTable {
  tenant_id: string;
  key: string;
  /** sha256 of method + path + body: the same key with another body is an error */
  request_hash: string;
  status_code: number;
  response: string;
  created_at: number;
}

export interface SettingTable {
  key: string;
  value: string;
}

export interface ListTable {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  from_address: string;
  from_name: string;
  stream: string;
  opt_in: 'double' | 'single';
  allow_relationship: number;
  consent_text_hash: string;
  form_enabled: number;
  created_at: number;
  deleted_at: number | null;
}

export interface ContactTable {
  id: string;
  tenant_id: string;
  email: string | null;
  address_hash: string;
  domain: string;
  /** JSON object of custom fields */
  fields: string;
  /** active | erased */
  status: string;
  last_open_at: number | null;
  last_click_at: number | null;
  last_engaged_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface ConsentTextTable {
  hash: string;
  text: string;
  created_at: number;
}

export type ConsentSource = 'form' | 'api' | 'import' | 'contest' | 'customer' | 'other';
export type OptIn = 'single' | 'confirmed' | 'double' | 'none';

export interface ConsentRecordTable {
  id: string;
  tenant_id: string;
  contact_id: string;
  list_id: string;
  source: ConsentSource;
  collected_at: number;
  form_url: string | null;
  ip: string | null;
  user_agent: string | null;
  consent_text_hash: string | null;
  checkbox_unchecked: number | null;
  separate_consent: number | null;
  opt_in: OptIn;
  confirmed_at: number | null;
  confirm_ip: string | null;
  confirm_user_agent: string | null;
  relationship: string | null;
  informed_how: string | null;
  import_id: string | null;
  created_at: number;
}

export interface SubscriptionTable {
  contact_id: string;
  list_id: string;
  tenant_id: string;
  status: 'pending' | 'subscribed' | 'unsubscribed';
  consent_id: string | null;
  quarantined: number;
  import_id: string | null;
  created_at: number;
  confirmed_at: number | null;
  unsubscribed_at: number | null;
  updated_at: number;
}

export type SuppressionReason = 'hard_bounce' | 'complaint' | 'unsubscribe' | 'manual' | 'spamtrap';

export interface SuppressionTable {
  id: string;
  tenant_id: string;
  address_hash: string;
  email: string | null;
  reason: SuppressionReason;
  source: string;
  note: string | null;
  created_at: number;
}

export interface ImportTable {
  id: string;
  tenant_id: string;
  list_id: string;
  file_hash: string;
  file_name: string;
  status: 'running' | 'completed' | 'quarantined' | 'approved' | 'rejected' | 'failed';
  options: string;
  report: string;
  checkpoint_line: number;
  created_at: number;
  finished_at: number | null;
  reviewed_by: string | null;
}

export interface ImportRejectTable {
  import_id: string;
  line: number;
  email: string | null;
  reason: string;
}

export interface CounterTable {
  key: string;
  window_start: number;
  count: number;
}

export interface TenantProfileTable {
  tenant_id: string;
  organisation: string;
  postal_address: string;
  phone: string;
  organisation_domain: string;
  timezone: string;
  updated_at: number;
  /** the tenant's click-tracking host, under one of its verified domains; null: no click tracking */
  tracking_host: string | null;
}

export interface TemplateTable {
  id: string;
  tenant_id: string;
  name: string;
  created_at: number;
  /** per tenant, from 1: the Mailjet-compatible TemplateID */
  number: number | null;
}

export interface TemplateVersionTable {
  id: string;
  template_id: string;
  version: number;
  format: 'mjml' | 'html';
  subject: string;
  body: string;
  text_body: string | null;
  created_at: number;
}

export type CampaignStatus = 'draft' | 'review' | 'approved' | 'scheduled' | 'sending' | 'paused' | 'completed' | 'cancelled';

export interface CampaignTable {
  id: string;
  tenant_id: string;
  name: string;
  status: CampaignStatus;
  template_version_id: string;
  list_ids: string;
  segment: string | null;
  stream: string;
  from_address: string;
  from_name: string;
  reply_to: string | null;
  message_row_id: string | null;
  findings: string;
  status_reason: string | null;
  approved_by: string | null;
  scheduled_at: number | null;
  checkpoint: string | null;
  enqueued: number;
  audience_done: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  completed_at: number | null;
  track_clicks: number;
}

export interface Database {
  tenant_profiles: TenantProfileTable;
  templates: TemplateTable;
  template_versions: TemplateVersionTable;
  campaigns: CampaignTable;
  lists: ListTable;
  contacts: ContactTable;
  consent_texts: ConsentTextTable;
  consent_records: ConsentRecordTable;
  subscriptions: SubscriptionTable;
  suppressions: SuppressionTable;
  imports: ImportTable;
  import_rejects: ImportRejectTable;
  counters: CounterTable;
  tenants: TenantTable;
  api_keys: ApiKeyTable;
  domains: DomainTable;
  dkim_keys: DkimKeyTable;
  streams: StreamTable;
  messages: MessageTable;
  recipients: RecipientTable;
  events: EventTable;
  sandbox_messages: SandboxMessageTable;
  idempotency_keys: IdempotencyKeyTable;
  settings: SettingTable;
}

export type Tenant = Selectable<TenantTable>;
export type ApiKey = Selectable<ApiKeyTable>;
export type Domain = Selectable<DomainTable>;
export type DkimKey = Selectable<DkimKeyTable>;
export type Stream = Selectable<StreamTable>;
export type Message = Selectable<MessageTable>;
export type Recipient = Selectable<RecipientTable>;
export type Event = Selectable<EventTable>;
export type NewEvent = Insertable<EventTable>;
export type RecipientUpdate = Updateable<RecipientTable>;
export type List = Selectable<ListTable>;
export type Contact = Selectable<ContactTable>;
export type ConsentRecord = Selectable<ConsentRecordTable>;
export type Subscription = Selectable<SubscriptionTable>;
export type Suppression = Selectable<SuppressionTable>;
export type Import = Selectable<ImportTable>;
export type TenantProfile = Selectable<TenantProfileTable>;
export type TemplateVersion = Selectable<TemplateVersionTable>;
export type Campaign = Selectable<CampaignTable>;
