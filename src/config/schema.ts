// The one typed configuration of envoi. Every key has a description and a
// default here; docs/configuration.md is generated from this file
// (`npm run docs:config`) and a test fails when the two disagree. Unknown keys
// are rejected, in the file and in ENVOI_* variables alike.
import { z } from 'zod';

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
    pools: z.record(z.string(), z.string()).default({}).describe('IP pool name → local address to send from (AF-19), e.g. {"marketing": "192.0.2.10"}'),
    caFile: z.string().optional().describe('PEM file of extra certificate authorities to trust when delivering (tests)'),
    pollMs: z.number().int().min(10).default(500).describe('how often an idle worker looks for due messages, in ms'),
    batchSize: z.number().int().min(1).default(100).describe('recipients a worker claims at once'),
  }).strict().prefault({}).describe('delivery workers'),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('log level'),
  }).strict().prefault({}).describe('logging'),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
