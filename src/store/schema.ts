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

/** A message the inbound MX accepted (feedback/): kept before the 250. */
export interface InboundMessageTable {
  id: string;
  tenant_id: string | null;
  mailbox: 'bounce' | 'unsubscribe' | 'abuse' | 'postmaster';
  rcpt_to: string;
  mail_from: string;
  remote_address: string;
  received_at: number;
  size: number;
  raw: Buffer;
  status: 'received' | 'processed' | 'unmatched' | 'unparsed';
  kind: string | null;
  recipient_id: string | null;
  message_id: string | null;
  address: string | null;
  subject: string | null;
  /** JSON object */
  summary: string;
  acknowledged_at: number | null;
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
  /** the run holding the import (host:pid:random) while it reads the file; null when none */
  locked_by: string | null;
  /** epoch ms the holder's lease runs to; renewed with every committed batch */
  locked_until: number | null;
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
  track_opens: Generated<number>;
}

/** A tenant's webhook endpoint (webhooks/): where its events are POSTed. */
export interface WebhookEndpointTable {
  id: string;
  tenant_id: string;
  /** without userinfo: that is sealed in auth_enc */
  url: string;
  auth_enc: string | null;
  /** the signing secret, sealed (accounts/secrets.ts); shown once at creation */
  secret_enc: string;
  /** JSON array of webhook event types */
  events: string;
  format: 'native' | 'mailjet';
  batch: number;
  machine_opens: number;
  description: string;
  active: number;
  /** the last event id fanned out to this endpoint */
  cursor: number;
  created_at: number;
}

/** One event for one endpoint: the unit of retry. */
export interface WebhookDeliveryTable {
  id: string;
  endpoint_id: string;
  tenant_id: string;
  event_id: number;
  event_type: string;
  /** JSON, in the endpoint's format */
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: number;
  last_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  locked_until: number | null;
  locked_by: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface WarmupRampTable {
  pool: string;
  domain_id: string;
  provider: string;
  /** the UTC day (YYYY-MM-DD) day_index and budget apply to */
  day: string;
  day_index: number;
  budget: number;
  verdict: 'start' | 'grow' | 'hold' | 'step-back';
  prev_sent: number;
  prev_bounced: number;
  prev_delivered: number;
  prev_complained: number;
  started_at: number;
  updated_at: number;
}

/** The last doctor report of a sending domain (doctor/), read by the marketing gate. */
export interface DoctorReportTable {
  domain_id: string;
  tenant_id: string;
  checked_at: number;
  /** 1: a blocking check failed */
  blocked: number;
  /** DomainReport as JSON */
  report: string;
}

export interface DomainFaultTable {
  id: string;
  tenant_id: string;
  domain_id: string;
  provider: string;
  /** enhanced code of the reply (4.7.27), else the basic one */
  code: string;
  cause: string;
  fault: string;
  remedy: string;
  /** the last reply that reported it */
  example: string;
  first_seen: number;
  last_seen: number;
  count: number;
  cleared_at: number | null;
  cleared_by: string | null;
}

/** Counters rolled up from the event log (reputation/): one row per (tenant, UTC day, dimension, key). */
export interface ReputationCounterTable {
  tenant_id: string;
  day: string;
  /** tenant | domain | stream | campaign | provider | pool | gmail */
  dim: string;
  key: string;
  sent: number;
  delivered: number;
  bounced: number;
  hard_bounced: number;
  unknown_user: number;
  blocked: number;
  deferred: number;
  expired: number;
  dropped: number;
  complained: number;
  abuse_reports: number;
  spamtraps: number;
  unsubscribed: number;
  clicked: number;
  opened: number;
}

export interface ReputationCursorTable {
  name: string;
  last_event_id: number;
  updated_at: number;
}

export interface ReputationGmailMinuteTable {
  org_domain: string;
  minute: number;
  count: number;
}

export interface ReputationBulkDomainTable {
  org_domain: string;
  since: number;
  count: number;
  tenant_id: string;
}

/** Every action reputation took and every operator decision about a tenant (the audit trail). */
export interface ReputationActionTable {
  id: string;
  tenant_id: string;
  scope: string;
  scope_key: string;
  rule: string;
  step: string;
  indicator: string | null;
  value: number | null;
  threshold: number | null;
  volume: number | null;
  min_volume: number | null;
  window: string;
  profile: string | null;
  reason: string;
  actor: string;
  created_at: number;
}

export interface ReputationControlTable {
  tenant_id: string;
  daily_cap: number | null;
  /** JSON array of profile names */
  profiles: string | null;
  throttle_per_minute: number | null;
  throttle_until: number | null;
  suspended_reason: string | null;
  suspend_transactional: number;
  updated_at: number;
  updated_by: string;
}

export interface ReputationPauseTable {
  id: string;
  tenant_id: string;
  domain_id: string;
  provider: string;
  rule: string;
  reason: string;
  since: number;
  lifted_at: number | null;
  lifted_by: string | null;
}

export interface ReputationUsageTable {
  tenant_id: string;
  day: string;
  count: number;
}

export interface ReputationPostmasterTable {
  domain_id: string;
  day: string;
  tenant_id: string;
  spam_rate: number | null;
  ip_reputation: string | null;
  domain_reputation: string | null;
  spf_rate: number | null;
  dkim_rate: number | null;
  dmarc_rate: number | null;
  tls_rate: number | null;
  delivery_errors: string | null;
  imported_at: number;
}

/** A person who signs in to the dashboard (src/web/): an operator, or a user of one tenant. */
export interface UserTable {
  id: string;
  email: string;
  role: 'operator' | 'tenant';
  /** null for operators */
  tenant_id: string | null;
  /** scrypt with its parameters (src/web/passwords.ts) */
  password_hash: string;
  created_at: number;
  last_login_at: number | null;
  disabled_at: number | null;
}

/** A dashboard session, stored by the SHA-256 of its cookie value. */
export interface UserSessionTable {
  id_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  ip: string | null;
}

export interface Database {
  reputation_counters: ReputationCounterTable;
  reputation_cursor: ReputationCursorTable;
  reputation_gmail_minutes: ReputationGmailMinuteTable;
  reputation_bulk_domains: ReputationBulkDomainTable;
  reputation_actions: ReputationActionTable;
  reputation_controls: ReputationControlTable;
  reputation_pauses: ReputationPauseTable;
  reputation_usage: ReputationUsageTable;
  reputation_postmaster: ReputationPostmasterTable;
  warmup_ramps: WarmupRampTable;
  domain_faults: DomainFaultTable;
  doctor_reports: DoctorReportTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
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
  users: UserTable;
  user_sessions: UserSessionTable;
  domains: DomainTable;
  dkim_keys: DkimKeyTable;
  streams: StreamTable;
  messages: MessageTable;
  recipients: RecipientTable;
  events: EventTable;
  sandbox_messages: SandboxMessageTable;
  inbound_messages: InboundMessageTable;
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
export type InboundMessage = Selectable<InboundMessageTable>;
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
export type WebhookEndpoint = Selectable<WebhookEndpointTable>;
export type WebhookDelivery = Selectable<WebhookDeliveryTable>;
export type WarmupRamp = Selectable<WarmupRampTable>;
export type DomainFault = Selectable<DomainFaultTable>;
export type ReputationAction = Selectable<ReputationActionTable>;
export type ReputationControl = Selectable<ReputationControlTable>;
export type ReputationPause = Selectable<ReputationPauseTable>;
