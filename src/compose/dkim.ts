// DKIM signing (RFC 6376) with RSA-SHA256 and Ed25519-SHA256 (RFC 8463) on
// node:crypto. Our own signer because it sits on the hot path: keys are parsed
// once into KeyObjects (mailauth re-parses the PEM on every call, ~4x slower)
// and nodemailer's signer silently skips Ed25519 keys.
//
// Always relaxed/relaxed + SHA-256: relaxed survives the header re-folding and
// trailing-whitespace edits that relays do, and SHA-1 is obsolete (RFC 8301).
import crypto from 'node:crypto';
import { systemClock, type Clock } from '../clock.ts';

export interface DkimKey {
  domain: string;
  selector: string;
  algorithm: 'rsa-sha256' | 'ed25519-sha256';
  privateKey: crypto.KeyObject;
}

/**
 * Headers signed when present. Signing the MIME headers stops a relay from
 * re-labelling the body's type or encoding; List-Unsubscribe-Post must be
 * signed for one-click unsubscribe to count (RFC 8058 §4).
 */
export const DEFAULT_SIGNED_HEADERS: string[] = [
  'from', 'sender', 'reply-to', 'subject', 'date', 'message-id', 'to', 'cc',
  'mime-version', 'content-type', 'content-transfer-encoding', 'content-language',
  'in-reply-to', 'references', 'list-id', 'list-help', 'list-unsubscribe',
  'list-unsubscribe-post', 'list-subscribe', 'list-post', 'list-owner',
  'list-archive', 'feedback-id', 'auto-submitted', 'precedence',
];

/**
 * Headers listed once more than they occur (also once when absent), so a
 * replayed message cannot gain a second From/Subject or a Reply-To or
 * unsubscribe target of someone else's choosing without breaking the signature.
 */
export const DEFAULT_OVERSIGNED_HEADERS: string[] = [
  'from', 'subject', 'date', 'to', 'cc', 'reply-to',
  'list-unsubscribe', 'list-unsubscribe-post', 'list-id',
];

const ALGORITHM_KEY_TYPE = { 'rsa-sha256': 'rsa', 'ed25519-sha256': 'ed25519' } as const;
// A-labels only: the values go verbatim into a header and into a DNS name.
const DNS_LABELS = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?)*$/i;
const MAX_LINE = 78; // RFC 5322 §2.1.1 SHOULD; 998 is the hard limit

interface HeaderField { name: string; raw: string }

export class DkimSigner {
  readonly #keys: DkimKey[];
  readonly #headers: string[];
  readonly #oversign: Set<string>;
  readonly #clock: Clock;

  /**
   * headers: names to sign when present (default DEFAULT_SIGNED_HEADERS; From is always added);
   * oversign: names listed once more than they occur (default DEFAULT_OVERSIGNED_HEADERS);
   * clock: milliseconds, for t=.
   */
  constructor(keys: DkimKey[], opts: { headers?: string[]; oversign?: string[]; clock?: Clock } = {}) {
    if (keys.length === 0) throw new Error('DkimSigner needs at least one key');
    for (const key of keys) checkKey(key);
    this.#keys = keys.map((k) => ({ ...k, domain: k.domain.toLowerCase() }));
    const oversign = (opts.oversign ?? DEFAULT_OVERSIGNED_HEADERS).map((h) => h.toLowerCase());
    // From must always be signed (RFC 6376 §5.4); an oversigned header is a
    // signed header even if the caller forgot to list it
    const headers = ['from', ...(opts.headers ?? DEFAULT_SIGNED_HEADERS), ...oversign].map((h) => h.toLowerCase());
    // names land verbatim in h=; a ';' or space there would corrupt the tag list
    const bad = headers.find((h) => !/^[a-z0-9][a-z0-9_.-]*$/.test(h));
    if (bad !== undefined) throw new Error(`not a header name DKIM can sign: ${JSON.stringify(bad)}`);
    this.#headers = [...new Set(headers)];
    this.#oversign = new Set(oversign);
    this.#clock = opts.clock ?? systemClock;
  }

  /** Returns the message with one DKIM-Signature header per key prepended, first key's on top. */
  sign(raw: Buffer): Buffer {
    // Signatures cover the CRLF form that goes over SMTP; a message built with
    // bare LF would be converted in transit and fail verification, so the
    // conversion happens here, before hashing, and the CRLF form is returned.
    const message = toCrlf(raw);
    const { header, body } = splitMessage(message);
    const fields = parseHeaderFields(header);
    // one body hash serves every key: all use relaxed body + SHA-256
    const bodyHash = relaxedBodyHash(body);
    const names = signedHeaderNames(fields, this.#headers, this.#oversign);
    const signedHeaders = canonicalSignedHeaders(fields, names);
    const time = Math.floor(this.#clock.now() / 1000);

    const lines = this.#keys.map((key) => signatureHeader(key, names, bodyHash, time, signedHeaders));
    return Buffer.concat([Buffer.from(lines.join(''), 'latin1'), message]);
  }
}

function checkKey(key: DkimKey): void {
  const expected = ALGORITHM_KEY_TYPE[key.algorithm];
  if (!expected) throw new Error(`unsupported DKIM algorithm ${key.algorithm}`);
  if (key.privateKey.type !== 'private' || key.privateKey.asymmetricKeyType !== expected) {
    throw new Error(`DKIM key ${key.selector}._domainkey.${key.domain} is not a ${expected} private key`);
  }
  if (!DNS_LABELS.test(key.domain) || !DNS_LABELS.test(key.selector)) {
    throw new Error(`DKIM domain/selector must be ASCII DNS names: ${key.selector}._domainkey.${key.domain}`);
  }
}

/** The DKIM-Signature header line (with CRLF) for one key. */
function signatureHeader(key: DkimKey, names: string[], bodyHash: string, time: number, signedHeaders: string): string {
  const atoms: Atom[] = [
    ...[`v=1;`, `a=${key.algorithm};`, `c=relaxed/relaxed;`, `d=${key.domain};`, `s=${key.selector};`, `t=${time};`]
      .map((text) => ({ text, space: true })),
    // FWS is allowed around the colons of h=, so the list may break after one
    ...names.map((name, i) => ({ text: (i === 0 ? 'h=' : '') + name + (i === names.length - 1 ? ';' : ':'), space: i === 0 })),
    { text: `bh=${bodyHash};`, space: true },
    { text: 'b=', space: true },
  ];
  const unsigned = fold('DKIM-Signature:', atoms);
  // The signature covers this header's own canonical form with b= empty and
  // without its CRLF (RFC 6376 §3.7); verifiers drop the b= value, folds included.
  const data = signedHeaders + relaxedHeader(unsigned);
  const signature = key.algorithm === 'rsa-sha256'
    ? crypto.sign('sha256', Buffer.from(data, 'latin1'), key.privateKey)
    // RFC 8463 §3: Ed25519 (pure) signs the SHA-256 hash, not the data itself
    : crypto.sign(null, crypto.createHash('sha256').update(data, 'latin1').digest(), key.privateKey);
  return appendWrapped(unsigned, signature.toString('base64')) + '\r\n';
}

interface Atom { text: string; space: boolean }

/** Joins atoms into a header, folding (CRLF + space) before an atom that would pass MAX_LINE. */
function fold(start: string, atoms: Atom[]): string {
  let out = start;
  let lineLength = start.length;
  for (const { text, space } of atoms) {
    const sep = space ? 1 : 0;
    if (lineLength + sep + text.length > MAX_LINE && lineLength > 1) {
      out += '\r\n ' + text;
      lineLength = 1 + text.length;
    } else {
      out += (space ? ' ' : '') + text;
      lineLength += sep + text.length;
    }
  }
  return out;
}

/** Appends base64 (FWS allowed anywhere in it), filling each line up to MAX_LINE. */
function appendWrapped(header: string, value: string): string {
  let out = header;
  let lineLength = header.length - header.lastIndexOf('\n') - 1;
  let i = 0;
  while (i < value.length) {
    const room = MAX_LINE - lineLength;
    if (room <= 0) {
      out += '\r\n ';
      lineLength = 1;
      continue;
    }
    out += value.slice(i, i + room);
    lineLength += Math.min(room, value.length - i);
    i += room;
  }
  return out;
}

/** Converts bare LF line ends to CRLF; returns the input itself when already CRLF. */
function toCrlf(raw: Buffer): Buffer {
  for (let i = raw.indexOf(10); i !== -1; i = raw.indexOf(10, i + 1)) {
    if (i === 0 || raw[i - 1] !== 13) {
      return Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    }
  }
  return raw;
}

/** Header block (each field ending in CRLF) and body, split at the first empty line. */
function splitMessage(message: Buffer): { header: string; body: Buffer } {
  if (message[0] === 13 && message[1] === 10) return { header: '', body: message.subarray(2) };
  const end = message.indexOf('\r\n\r\n');
  if (end === -1) return { header: message.toString('latin1'), body: Buffer.alloc(0) };
  return { header: message.toString('latin1', 0, end + 2), body: message.subarray(end + 4) };
}

function parseHeaderFields(header: string): HeaderField[] {
  const fields: HeaderField[] = [];
  // a field ends at a CRLF not followed by whitespace (which would be a fold)
  for (const raw of header.split(/\r\n(?![ \t])/)) {
    const colon = raw.indexOf(':');
    if (colon <= 0) continue; // not a field (or the split's trailing ''): never signed
    fields.push({ name: raw.slice(0, colon).replace(/[ \t]+$/, '').toLowerCase(), raw });
  }
  return fields;
}

/** h= list: each configured header as often as it occurs, oversigned ones once more. */
function signedHeaderNames(fields: HeaderField[], headers: string[], oversign: Set<string>): string[] {
  const counts = new Map<string, number>();
  for (const f of fields) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
  const names: string[] = [];
  for (const name of headers) {
    const n = (counts.get(name) ?? 0) + (oversign.has(name) ? 1 : 0);
    for (let i = 0; i < n; i++) names.push(name);
  }
  // h= may not be empty; a message without From is malformed, sign its absence
  return names.length > 0 ? names : ['from'];
}

/** Canonical header data for h=: repeated names take instances bottom-up (RFC 6376 §5.4.2). */
function canonicalSignedHeaders(fields: HeaderField[], names: string[]): string {
  const byName = new Map<string, HeaderField[]>();
  for (const f of fields) {
    const list = byName.get(f.name);
    if (list) list.push(f);
    else byName.set(f.name, [f]);
  }
  let out = '';
  for (const name of names) {
    const field = byName.get(name)?.pop();
    if (field) out += relaxedHeader(field.raw) + '\r\n'; // an absent instance adds nothing
  }
  return out;
}

/** RFC 6376 §3.4.2 relaxed header canonicalisation, without the CRLF. WSP is SP and HTAB only. */
function relaxedHeader(raw: string): string {
  const colon = raw.indexOf(':');
  const name = raw.slice(0, colon).replace(/[ \t]+$/, '').toLowerCase();
  const value = raw.slice(colon + 1).replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
  return name + ':' + value;
}

/**
 * SHA-256 of the relaxed body, base64. Most bodies envoi composes are
 * already in relaxed form but for their trailing empty lines (no tab, no run
 * of spaces, no space at a line end): those are hashed as they are, without
 * the three string copies of the general path (GC was 6 % of a campaign's
 * CPU, bench/campaign.ts).
 */
function relaxedBodyHash(body: Buffer): string {
  const hash = crypto.createHash('sha256');
  const asIs = body.indexOf(9) === -1 && body.indexOf('  ', 0, 'latin1') === -1 && body.indexOf(' \r\n', 0, 'latin1') === -1 && body[body.length - 1] !== 32;
  if (!asIs) return hash.update(relaxedBody(body), 'latin1').digest('base64');
  let end = body.length;
  while (end >= 2 && body[end - 1] === 10 && body[end - 2] === 13) end -= 2;
  // a non-empty body ends with exactly one CRLF; an empty one stays empty
  if (end > 0) hash.update(body.subarray(0, end)).update('\r\n');
  return hash.digest('base64');
}

/** RFC 6376 §3.4.4 relaxed body canonicalisation, as a latin1 string (bytes preserved). */
function relaxedBody(body: Buffer): string {
  let text = body.toString('latin1').replace(/[ \t]+(?=\r\n|$)/g, '').replace(/[ \t]{2,}|\t/g, ' ');
  let end = text.length;
  while (end >= 2 && text.charCodeAt(end - 1) === 10 && text.charCodeAt(end - 2) === 13) end -= 2;
  text = text.slice(0, end);
  // a non-empty body ends with exactly one CRLF; an empty one stays empty
  return text.length === 0 ? '' : text + '\r\n';
}

/**
 * Generates a key pair. publicKeyDns is the p= value: base64 DER SubjectPublicKeyInfo
 * for RSA (2048 bits), the raw 32-byte public key for Ed25519 (RFC 8463 §4.2).
 */
export function generateDkimKeyPair(algorithm: 'rsa-sha256' | 'ed25519-sha256'): { privateKeyPem: string; publicKeyDns: string } {
  const { privateKey, publicKey } = algorithm === 'rsa-sha256'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    // an Ed25519 SPKI is a fixed 12-byte prefix followed by the 32-byte key
    publicKeyDns: (algorithm === 'rsa-sha256' ? spki : spki.subarray(spki.length - 32)).toString('base64'),
  };
}

/** The TXT record value published at selector._domainkey.domain. */
export function dkimRecordValue(algorithm: 'rsa-sha256' | 'ed25519-sha256', publicKeyDns: string): string {
  return `v=DKIM1; k=${ALGORITHM_KEY_TYPE[algorithm]}; p=${publicKeyDns}`;
}
