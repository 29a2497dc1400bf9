// Sending domains. Adding one generates its two DKIM keys (RSA-2048 and
// Ed25519, GM-2) and tells the DNS records to publish. The private keys are
// sealed (accounts/secrets.ts) before they touch the database.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Domain, DkimKey } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { Secrets } from './secrets.ts';
import type { Streams } from './streams.ts';
import { newId } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { isUniqueViolation } from '../store/connect.ts';
import { parseDomain } from '../compose/address.ts';
import { isFreemailDomain } from '../policy/freemail.ts';
import type { Resolver } from '../net/resolver.ts';
import { dkimRecordValue, generateDkimKeyPair, type DkimKey as SigningKey } from '../compose/dkim.ts';

export interface DnsRecord {
  type: 'TXT' | 'MX' | 'CNAME';
  name: string;
  value: string;
  /** why this record is needed, with the requirement IDs it serves */
  purpose: string;
}

export interface DomainOptions {
  /** the public host name of envoi: MX target of bounce subdomains, SPF a: mechanism */
  hostname: string;
  /** sandbox mode: a domain counts as verified once added */
  autoVerify: boolean;
}

const ALGORITHMS = [
  { algorithm: 'rsa-sha256', tag: 'rsa' },
  { algorithm: 'ed25519-sha256', tag: 'ed' },
] as const;

export function createDomains(db: Kysely<Database>, clock: Clock, secrets: Secrets, streams: Streams, opts: DomainOptions) {
  // Signing keys parsed once per domain, not per message (STACK.md: a PEM
  // re-parsed per signature costs two thirds of the throughput).
  const keyCache = new Map<string, SigningKey[]>();

  return {
    async add(tenantId: string, nameIn: string): Promise<Result<Domain>> {
      const parsed = parseDomain(nameIn);
      if (!parsed.ok) return fail('request.invalid', parsed.error.detail, 'name');
      const name = parsed.value;
      if (isFreemailDomain(name)) return fail('message.freemail_from', `${name} is a mailbox provider's domain; send from a domain you own (GM-3)`, 'name');
      const now = clock.now();
      const month = new Date(now).toISOString().slice(0, 7).replace('-', '');
      const domain: Domain = { id: newId('dom', now), tenant_id: tenantId, name, verified: opts.autoVerify ? 1 : 0, created_at: now };
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('domains').values(domain).execute();
          for (const { algorithm, tag } of ALGORITHMS) {
            const pair = generateDkimKeyPair(algorithm);
            await trx.insertInto('dkim_keys').values({
              id: newId('dk', now),
              domain_id: domain.id,
              selector: `envoi-${tag}-${month}`,
              algorithm,
              public_key: pair.publicKeyDns,
              private_key_enc: secrets.seal(pair.privateKeyPem),
              active: 1,
              created_at: now,
            }).execute();
          }
        });
      } catch (e) {
        // the name is taken; by whom is not this tenant's business
        if (isUniqueViolation(e)) return fail('conflict', `${name} is already registered`, 'name');
        throw e;
      }
      return ok(domain);
    },

    list(tenantId: string): Promise<Domain[]> {
      return db.selectFrom('domains').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
    },

    /** by id or name, only within the tenant */
    find(tenantId: string, ref: string): Promise<Domain | undefined> {
      return db.selectFrom('domains').selectAll().where('tenant_id', '=', tenantId)
        .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref.toLowerCase())])).executeTakeFirst();
    },

    /** the domain by name across tenants (operator CLI) */
    findByName(name: string): Promise<Domain | undefined> {
      return db.selectFrom('domains').selectAll().where('name', '=', name.toLowerCase()).executeTakeFirst();
    },

    activeKeys(domainId: string): Promise<DkimKey[]> {
      return db.selectFrom('dkim_keys').selectAll().where('domain_id', '=', domainId).where('active', '=', 1).orderBy('algorithm', 'desc').execute();
    },

    /** the DKIM keys of a domain as KeyObjects, RSA first (the signature most verifiers check first) */
    async signingKeys(domain: Domain): Promise<SigningKey[]> {
      const cached = keyCache.get(domain.id);
      if (cached) return cached;
      const rows = await this.activeKeys(domain.id);
      const keys = rows.map((k) => ({
        domain: domain.name,
        selector: k.selector,
        algorithm: k.algorithm,
        privateKey: crypto.createPrivateKey(secrets.open(k.private_key_enc)),
      }));
      keyCache.set(domain.id, keys);
      return keys;
    },

    /**
     * Verification outside the sandbox: the domain's DKIM public keys are
     * published as envoi printed them (proof of control, and mail will pass
     * DKIM). The full check of every record is the doctor's (issue 8).
     */
    async verify(domain: Domain, resolver: Resolver): Promise<Result<Domain>> {
      const missing: string[] = [];
      for (const k of await this.activeKeys(domain.id)) {
        const name = `${k.selector}._domainkey.${domain.name}`;
        let txt: string[] = [];
        try {
          txt = (await resolver.txt(name)).map((parts) => parts.join(''));
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ENOTFOUND' && code !== 'ENODATA') return fail('unavailable', `could not look up ${name} (${code}); try again`);
        }
        if (!txt.some((v) => v.replace(/\s+/g, '').includes(`p=${k.public_key}`))) missing.push(name);
      }
      if (missing.length) return fail('conflict', `not verified: publish the DKIM record${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (see the domain's records)`);
      await db.updateTable('domains').set({ verified: 1 }).where('id', '=', domain.id).execute();
      return ok({ ...domain, verified: 1 });
    },

    /** The DNS records to publish for a domain (GM-2, GM-4, GM-8, AF-3, MC-6). */
    async records(domain: Domain): Promise<DnsRecord[]> {
      const keys = await this.activeKeys(domain.id);
      const out: DnsRecord[] = keys.map((k) => ({
        type: 'TXT' as const,
        name: `${k.selector}._domainkey.${domain.name}`,
        value: dkimRecordValue(k.algorithm, k.public_key),
        purpose: `DKIM public key (${k.algorithm}) that receivers verify envoi's signatures with (GM-2, GM-4)`,
      }));
      out.push({
        type: 'TXT',
        name: `_dmarc.${domain.name}`,
        value: 'v=DMARC1; p=none; adkim=r; aspf=r',
        purpose: 'DMARC policy, p=none at least (GM-8); raise to quarantine/reject once reports are clean',
      });
      out.push({
        type: 'TXT',
        name: domain.name,
        value: `v=spf1 a:${opts.hostname} ~all`,
        purpose: 'SPF of the From domain (GM-2, AF-6); merge with your existing SPF record if you have one: a domain has one SPF record',
      });
      const labels = [...new Set((await streams.list(domain.tenant_id)).map((s) => s.bounce_label))];
      for (const label of labels) {
        const host = `${label}.${domain.name}`;
        out.push({ type: 'MX', name: host, value: `10 ${opts.hostname}`, purpose: 'bounces and complaints come back to envoi (AF-3)' });
        out.push({ type: 'TXT', name: host, value: `v=spf1 a:${opts.hostname} -all`, purpose: 'SPF of the envelope sender, aligned with the From domain (GM-2, GM-4, MC-6)' });
      }
      return out;
    },
  };
}

export type Domains = ReturnType<typeof createDomains>;
