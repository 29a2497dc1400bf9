// TLS material for envoi's listeners (submission, inbound MX, HTTPS). Out of the
// box there is no CA-issued certificate, so envoi makes a self-signed one and
// keeps it in the data folder: STARTTLS still encrypts, and clients that pin or
// trust it explicitly can verify it. Operators point `files` at a real one.
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  /** PEM private key */
  key: string;
  /** PEM certificate chain, leaf first */
  cert: string;
}

export interface TlsSource {
  mode: 'self-signed' | 'files';
  certFile?: string;
  keyFile?: string;
  /** the self-signed pair lives in <dataDir>/tls/{cert,key}.pem */
  dataDir: string;
  /** the name the listeners answer to, put in the self-signed certificate */
  hostname: string;
}

const VALID_DAYS = 730;
// A stored certificate this close to expiry is replaced at start, so a
// long-running install never starts serving an expired one.
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/**
 * mode 'files': read certFile/keyFile; mode 'self-signed': load
 * <dataDir>/tls/{cert,key}.pem, or generate a self-signed certificate for
 * hostname (+ localhost, 127.0.0.1) valid 2 years, key file mode 0600.
 * Throws when the files are missing or the key does not match the certificate:
 * that is a start-up configuration error.
 */
export async function loadOrCreateTls(opts: TlsSource): Promise<TlsMaterial> {
  if (opts.mode === 'files') {
    if (!opts.certFile || !opts.keyFile) throw new Error("tls mode 'files' needs certFile and keyFile");
    return checked({ cert: await readFile(opts.certFile, 'utf8'), key: await readFile(opts.keyFile, 'utf8') });
  }
  const dir = join(opts.dataDir, 'tls');
  const stored = await readStored(dir);
  if (stored && stillGood(stored, opts.hostname)) return stored;
  const made = await selfSigned(opts.hostname);
  await store(dir, made);
  return made;
}

/** Node TLS options for our listeners: TLS 1.2 or newer, forward-secret AEAD ciphers only. */
export function serverTlsOptions(m: TlsMaterial): SecureContextOptions & { minVersion: 'TLSv1.2' } {
  return {
    key: m.key,
    cert: m.cert,
    minVersion: 'TLSv1.2',
    // TLS 1.2 suites (Mozilla "intermediate" without DHE); TLS 1.3 suites are
    // all AEAD and stay at Node's defaults.
    ciphers: [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-CHACHA20-POLY1305',
    ].join(':'),
    honorCipherOrder: true,
  };
}

async function readStored(dir: string): Promise<TlsMaterial | undefined> {
  try {
    return checked({ cert: await readFile(join(dir, 'cert.pem'), 'utf8'), key: await readFile(join(dir, 'key.pem'), 'utf8') });
  } catch {
    return undefined; // missing or damaged: make a new pair
  }
}

function stillGood(m: TlsMaterial, hostname: string): boolean {
  const cert = new X509Certificate(m.cert);
  const covers = isIP(hostname) ? cert.checkIP(hostname) : cert.checkHost(hostname);
  return covers !== undefined && Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS;
}

async function selfSigned(hostname: string): Promise<TlsMaterial> {
  const names = [...new Set([hostname, 'localhost', '127.0.0.1'])];
  const notBefore = new Date(Date.now() - 5 * 60 * 1000); // tolerate small clock skew of clients
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    // RSA: the inbound MX talks to every kind of MTA, some without ECDSA support
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: new Date(notBefore.getTime() + VALID_DAYS * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })) },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

// Written to a temporary name and renamed, so a crash never leaves half a key.
async function store(dir: string, m: TlsMaterial): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [name, pem, mode] of [['key.pem', m.key, 0o600], ['cert.pem', m.cert, 0o644]] as const) {
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    await writeFile(tmp, pem, { mode });
    await rename(tmp, join(dir, name));
  }
}

// Node parses the pair and refuses a key that does not belong to the certificate.
function checked(m: TlsMaterial): TlsMaterial {
  createSecureContext({ key: m.key, cert: m.cert });
  return m;
}
