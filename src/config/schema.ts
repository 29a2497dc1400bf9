// The one typed configuration of envoi. Every key has a description and a
// default here; docs/configuration.md is generated from this file
// (`npm run docs:config`) and a test fails when the two disagree. Unknown keys
// are rejected, in the file and in ENVOI_* variables alike.
import { z } from 'zod';
import { DEFAULT_WARMUP } from '../policy/warmup.ts';
import { DEFAULT_DNSBL_ZONES } from '../doctor/dnsbl.ts';
import { RFC5321_TIMEOUTS } from '../delivery/smtp/wire.ts';

const port = (def: number, what: string) =>
  z.number().int().min(0).max(65535).default(def).describe(`TCP port of ${what} (0 picks a free port)`);
const host = (what: string) => z.string().default('127.0.0.1').describe(`address ${what} listens on`);

export const configSchema = z.object({
  dataDir: z.string().default('./data').describe('folder for the SQLite database, the generated secret key and TLS certificate'),
  hostname: z.string().default('localhost').describe('public host name of this envoi: EHLO name, MX target of bounce domains, host of public links'),
  publicUrl: z.string().url().optional().describe('base URL of public pages and links (default: https://<hostname>:<http.port>)'),
  secretKey: z.string().optional().describe('32-byte key, base64 or hex, that encrypts DKIM private keys and signs tokens; default: generated once into <dataDir>/secret.key (mode 0600)'),
  database: z.object({
    url: z.string().optional().describe('PostgreSQL URL (postgres://…); absent: SQLite at <dataDir>/envoi.db'),
    schema: z.string().optional().describe('PostgreSQL schema to use (created if missing)'),
    poolSize: z.number().int().min(1).default(10).describe('PostgreSQL connections per process'),
  }).strict().prefault({}).describe('storage'),
  redis: z.object({
    url: z.string().optional().describe('Redis URL for cluster-wide rate limits and connection caps; absent: in-process'),
    prefix: z.string().min(1).default('envoi:').describe('prefix of every Redis key envoi writes: several envoi clusters (or test runs) can share one Redis'),
  }).strict().prefault({}).describe('shared state for several envoi processes'),
  tls: z.object({
    mode: z.enum(['self-signed', 'files']).default('self-signed').describe('self-signed: a certificate for <hostname> generated into <dataDir>/tls on first start; files: certFile and keyFile'),
    certFile: z.string().optional().describe('PEM certificate chain (mode files)'),
    keyFile: z.string().optional().describe('PEM private key (mode files)'),
  }).strict().prefault({}).describe('the certificate of the HTTPS listener and of STARTTLS on the SMTP listeners'),
  http: z.object({
    host: host('the HTTPS API, public pages and dashboard'),
    port: port(8443, 'the HTTPS API, public pages and dashboard'),
  }).strict().prefault({}).describe('HTTP API (always over TLS: one-click unsubscribe URLs must be HTTPS)'),
  submission: z.object({
    host: host('SMTP submission'),
    port: port(2587, 'SMTP submission (STARTTLS, then AUTH)'),
  }).strict().prefault({}).describe('SMTP submission for applications'),
  inbound: z.object({
    host: host('the inbound SMTP server (bounces, complaints, abuse@)'),
    port: port(2525, 'the inbound SMTP server'),
  }).strict().prefault({}).describe('inbound SMTP: the MX of the bounce subdomains'),
  limits: z.object({
    maxMessageBytes: z.number().int().min(1024).default(25 * 1024 * 1024).describe('largest message accepted, in bytes (API and SMTP)'),
    maxRecipients: z.number().int().min(1).default(50).describe('most recipients of one transactional message'),
  }).strict().prefault({}).describe('input limits'),
  dns: z.object({
    servers: z.array(z.string()).default([]).describe('DNS servers of the platform resolver, "ip" or "ip:port"; empty: the system\'s (comma-separated in ENVOI_DNS_SERVERS)'),
  }).strict().prefault({}).describe('the platform resolver (MX lookups, content checks)'),
  audience: z.object({
    sunsetDays: z.number().int().min(1).default(180).describe('contacts with no open or click for this many days are excluded from marketing (MJ-2)'),
    sunsetWarnDays: z.number().int().min(1).default(90).describe('contacts with no open or click for this many days are flagged before a campaign'),
    confirmationTtlHours: z.number().int().min(1).default(168).describe('how long a double opt-in confirmation link stays valid'),
    confirmationsPerAddressPerDay: z.number().int().min(1).default(3).describe('most confirmation mails one address receives a day (no subscription bombing)'),
    formRequestsPerIpPerMinute: z.number().int().min(1).default(10).describe('most subscription form posts one IP may make a minute'),
  }).strict().prefault({}).describe('audience and consent'),
  delivery: z.object({
    mode: z.enum(['sandbox', 'smtp']).default('sandbox').describe('sandbox: every message is captured, nothing leaves the machine; smtp: delivered to the recipients\' MX hosts'),
    port: z.number().int().min(1).max(65535).default(25).describe('SMTP port of receivers in smtp mode (25; tests use another)'),
    ehloName: z.string().optional().describe('EHLO name, the FQDN of the sending address (MC-5); default: hostname'),
    pools: z.record(z.string(), z.string()).default({}).describe('IP pool name → local address to send from (AF-19), IPv4 or IPv6, e.g. {"marketing": "192.0.2.10"}; a pool reaches only MX addresses (A or AAAA) of its own family; without an address, both (IPv4 first)'),
    caFile: z.string().optional().describe('PEM file of extra certificate authorities to trust when delivering (tests)'),
    pollMs: z.number().int().min(10).default(500).describe('how often an idle worker looks for due messages, in ms'),
    batchSize: z.number().int().min(1).default(100).describe('recipients a worker claims at once'),
    // 100, as Postfix's default_process_limit of smtp(8) processes; with 64 a campaign's worker sat idle ~10 % of the time waiting for replies (bench/campaign.ts: 980 → 1,116 msgs/s with two workers)
    concurrency: z.number().int().min(1).max(10_000).default(100).describe('recipients one worker process delivers at once (each on its own SMTP session); per-provider connection caps still apply'),
    connectionIdleMs: z.number().int().min(0).default(5_000).describe('an SMTP session with nothing more to send is closed after this many ms (QUIT)'),
    timeoutsMs: z.object({
      connect: z.number().int().min(100).default(RFC5321_TIMEOUTS.connect).describe('TCP connect to a receiver, in ms (30 s, as Postfix)'),
      greeting: z.number().int().min(100).default(RFC5321_TIMEOUTS.greeting).describe('the 220 greeting, in ms (RFC 5321 4.5.3.2.1: 5 min)'),
      command: z.number().int().min(100).default(RFC5321_TIMEOUTS.command).describe('EHLO, STARTTLS and its handshake, AUTH, RSET, QUIT, in ms (5 min)'),
      mail: z.number().int().min(100).default(RFC5321_TIMEOUTS.mail).describe('the reply to MAIL FROM, in ms (RFC 5321 4.5.3.2.2: 5 min)'),
      rcpt: z.number().int().min(100).default(RFC5321_TIMEOUTS.rcpt).describe('the reply to RCPT TO, in ms (RFC 5321 4.5.3.2.3: 5 min)'),
      dataInit: z.number().int().min(100).default(RFC5321_TIMEOUTS.dataInit).describe('the 354 reply to DATA, in ms (RFC 5321 4.5.3.2.4: 2 min)'),
      dataBlock: z.number().int().min(100).default(RFC5321_TIMEOUTS.dataBlock).describe('no byte of the message taken by the receiver for this long, in ms (RFC 5321 4.5.3.2.5: 3 min)'),
      dataEnd: z.number().int().min(100).default(RFC5321_TIMEOUTS.dataEnd).describe('the reply to the final dot, in ms (RFC 5321 4.5.3.2.6: 10 min)'),
    }).strict().prefault({}).describe('how long the delivery client waits at each step of an SMTP session before it gives up (the message is deferred); RFC 5321 4.5.3.2 values by default'),
    providers: z.record(z.string(), z.object({
      maxConnections: z.number().int().min(1).optional(),
      messagesPerConnection: z.number().int().min(1).optional(),
      ratePerMinute: z.number().positive().optional(),
      tls: z.enum(['required', 'opportunistic']).optional(),
      verifyCertificates: z.boolean().optional(),
    }).strict()).default({}).describe('overrides of the shipped provider profiles by name (policy/data/providers.json), e.g. {"default": {"tls": "opportunistic"}} for a receiver without STARTTLS; TLS stays required unless set here'),
    smartHost: z.object({
      host: z.string().min(1).describe('name of the relay: its TLS certificate is checked against it'),
      address: z.string().optional().describe('its IPv4 address, when the name is not to be looked up'),
      port: z.number().int().min(1).max(65535).default(587).describe('587 (STARTTLS) or 465 (implicit TLS)'),
      user: z.string().optional().describe('SMTP AUTH user name; sent only over TLS'),
      password: z.string().optional().describe('SMTP AUTH password (better in ENVOI_DELIVERY_SMART_HOST_PASSWORD than in a file); never logged'),
      verifyCertificates: z.boolean().default(true).describe('check the relay\'s certificate'),
      maxConnections: z.number().int().min(1).default(10).describe('sessions to the relay at once, across the workers'),
      messagesPerConnection: z.number().int().min(1).default(100).describe('messages per session before a new one'),
      ratePerMinute: z.number().positive().default(6000).describe('messages a minute the relay is sent, across the workers'),
    }).strict().refine((h) => (h.user === undefined) === (h.password === undefined), 'user and password go together')
      .optional().describe('smtp mode: relay every message through this host instead of the recipients\' MX (MC-4: a sender whose IP is dynamic or not clean); quiet hours, warm-up and faults still follow the recipients\' providers'),
    mtaSts: z.object({
      enabled: z.boolean().default(true).describe('honour the recipient domains\' MTA-STS policies (RFC 8461) in direct delivery: in enforce mode only the MX hosts a policy names are used, over TLS with a verified certificate whatever the provider profile says'),
      port: z.number().int().min(1).max(65535).default(443).describe('HTTPS port of the mta-sts.<domain> policy hosts (443, as the RFC says; tests use another)'),
      timeoutMs: z.number().int().min(100).max(60_000).default(10_000).describe('a policy fetch that has not finished in this many ms has failed (a cached policy, if any, still applies)'),
    }).strict().prefault({}).describe('MTA-STS (RFC 8461) of recipient domains; policies are cached per process for their max_age; the policy host is looked up through dns.servers and its certificate checked (with delivery.caFile when set)'),
    embeddedWorkers: z.boolean().default(true).describe('`envoi up` also runs the delivery workers and the campaign runner; false: an API-only process, delivery is left to `envoi worker` processes'),
    warmup: z.object({
      enabled: z.boolean().default(true).describe('daily volume ramps per (IP pool, sending domain, provider) for marketing in smtp mode (GM-13); transactional mail is never held; false for IPs and domains already warm'),
      start: z.number().int().min(1).default(DEFAULT_WARMUP.start).describe('messages a ramp allows on its first day'),
      growth: z.number().min(1).max(10).default(DEFAULT_WARMUP.growth).describe('budget multiplier per healthy day (hard bounces ≤ 5 %, complaints ≤ 0.1 %); a doubtful day holds, a bad one steps back'),
      max: z.number().int().min(0).default(DEFAULT_WARMUP.max).describe('the most a ramp allows a day once grown; 0: no ceiling'),
    }).strict().prefault({}).describe('warm-up of new IP pools and sending domains, per provider; days are UTC; shared across workers through redis.url'),
  }).strict().prefault({}).describe('delivery workers'),
  webhooks: z.object({
    pollMs: z.number().int().min(10).default(1000).describe('how often the webhook sender looks for new events and due retries, in ms'),
    concurrency: z.number().int().min(1).max(256).default(8).describe('webhook POSTs one process has in flight at once'),
    timeoutMs: z.number().int().min(1000).max(30_000).default(10_000).describe('a webhook POST that has not answered in this many ms counts as failed'),
    retryHours: z.number().min(1).max(72).default(24).describe('a webhook delivery is retried with exponential backoff for this long, then marked failed'),
    allowPrivateTargets: z.boolean().default(false).describe('allow endpoints on loopback, private, link-local and other non-public addresses (tests, a receiver on the same network); off: refused (SSRF)'),
    allowHttp: z.boolean().default(false).describe('allow http:// endpoint URLs; off: https only'),
    caFile: z.string().optional().describe('PEM file of extra certificate authorities to trust for webhook endpoints (tests, a private CA)'),
  }).strict().prefault({}).describe('outgoing webhooks: events POSTed to tenants\' endpoints'),
  doctor: z.object({
    dnsblZones: z.array(z.string()).default(DEFAULT_DNSBL_ZONES).describe('DNS blocklists every sending IP and domain is checked against (MC-8); the return codes of these come from policy/data/dnsbl.json; another zone: "zone" for an IP list, "domain:zone" for a domain list'),
    rdapBaseUrl: z.string().default('https://rdap.org').describe('RDAP service asked for a domain\'s registration date (MJ-8) as <base>/domain/<name>; rdap.org redirects to the registry; empty: not asked'),
    sendingIps: z.array(z.string()).default([]).describe('the public IPs mail leaves from (PTR, SPF, blocklists); empty: the addresses of the EHLO name (delivery.ehloName or hostname)'),
    smtpPort: z.number().int().min(1).max(65535).default(25).describe('port of the MX hosts the doctor talks to: the From domain\'s (does it answer, abuse@/postmaster@) and envoi\'s own (TLS); tests use another'),
    caFile: z.string().optional().describe('PEM file of extra certificate authorities trusted when the doctor judges certificates (tests, a private CA)'),
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000).describe('an SMTP or RDAP probe that has not answered in this many ms counts as not answering'),
  }).strict().prefault({}).describe('the doctor: checks of each sending domain\'s DNS and infrastructure (envoi doctor), and the marketing gate'),
  reputation: z.object({
    enabled: z.boolean().default(true).describe('the rollup of the event log into indicators, and the rules that act on them, run beside the delivery workers (`envoi up`, `envoi worker`); false: indicators stop moving and no rule acts'),
    pollMs: z.number().int().min(10).default(1000).describe('how often the rollup looks for new events, in ms'),
    batchSize: z.number().int().min(100).max(50_000).default(5000).describe('events counted per rollup transaction'),
    profiles: z.array(z.string()).default(['mailjet', 'gmail']).describe('threshold profiles (policy/data/reputation-thresholds.json) of tenants without their own; an operator may give a tenant a stricter one (strict)'),
    steps: z.record(z.string(), z.enum(['warn', 'throttle', 'pause', 'suspend'])).default({}).describe('the ladder step a rule triggers, by rule id, e.g. {"mj.bounces": "pause"}; unknown rule ids are refused at start'),
    throttlePerMinute: z.number().int().min(1).default(60).describe('marketing messages a minute a throttled tenant may send'),
    throttleHours: z.number().min(1).max(720).default(24).describe('how long a throttle lasts unless an operator lifts it sooner'),
    holdMinutes: z.number().int().min(1).max(1440).default(5).describe('a marketing recipient held back (suspended tenant, domain paused at a provider) is looked at again after this many minutes'),
    review: z.object({
      enabled: z.boolean().default(true).describe('new tenants start in review (MJ-10) with a daily cap until an operator approves them; false: they start active'),
      dailyCap: z.number().int().min(0).default(5000).describe('messages a day (transactional and marketing together, UTC days) a tenant in review may send'),
    }).strict().prefault({}).describe('review of new tenants (MJ-10)'),
  }).strict().prefault({}).describe('reputation: indicators per tenant, domain, stream, campaign, provider and IP pool, the thresholds that act on them (MJ-1, GM-10), bulk-sender status (GM-1)'),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('log level'),
  }).strict().prefault({}).describe('logging'),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
