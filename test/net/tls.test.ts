import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { loadOrCreateTls, serverTlsOptions, type TlsMaterial } from '../../src/net/tls.ts';
import { createTestCa } from '../peers/ca.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envoi-tls-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('loadOrCreateTls', () => {
  test('self-signed: made once for the hostname, localhost and 127.0.0.1, valid 2 years, key 0600', async () => {
    const made = await loadOrCreateTls({ mode: 'self-signed', dataDir: dir, hostname: 'mail.example.test' });
    const cert = new X509Certificate(made.cert);
    assert.equal(cert.checkHost('mail.example.test'), 'mail.example.test');
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 725 && days <= 731, `valid for ${days} days`);
    assert.equal((await stat(join(dir, 'tls', 'key.pem'))).mode & 0o777, 0o600);

    const loaded = await loadOrCreateTls({ mode: 'self-signed', dataDir: dir, hostname: 'mail.example.test' });
    assert.deepEqual(loaded, made);
    // a new hostname the stored certificate does not cover: a new certificate
    const renamed = await loadOrCreateTls({ mode: 'self-signed', dataDir: dir, hostname: 'mx.example.test' });
    assert.equal(new X509Certificate(renamed.cert).checkHost('mx.example.test'), 'mx.example.test');
  });

  test("files: read as given; a key that does not match the certificate is refused at start", async () => {
    const ca = await createTestCa();
    const a = await ca.issue(['a.test']);
    const b = await ca.issue(['b.test']);
    await writeFile(join(dir, 'a.crt'), a.cert);
    await writeFile(join(dir, 'a.key'), a.key);
    await writeFile(join(dir, 'b.key'), b.key);
    const files = { mode: 'files' as const, dataDir: dir, hostname: 'a.test' };
    assert.deepEqual(await loadOrCreateTls({ ...files, certFile: join(dir, 'a.crt'), keyFile: join(dir, 'a.key') }), a);
    await assert.rejects(loadOrCreateTls({ ...files, certFile: join(dir, 'a.crt'), keyFile: join(dir, 'b.key') }));
    await assert.rejects(loadOrCreateTls({ ...files, certFile: join(dir, 'missing.crt'), keyFile: join(dir, 'a.key') }));
  });
});

describe('serverTlsOptions', () => {
  let material: TlsMaterial;
  let caPem: string;
  let server: tls.Server;
  let port: number;
  before(async () => {
    const ca = await createTestCa();
    caPem = ca.caPem;
    material = await ca.issue(['localhost']);
    server = tls.createServer(serverTlsOptions(material), (s) => s.end());
    server.on('tlsClientError', () => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const handshake = (opts: tls.ConnectionOptions) =>
    new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: caPem, rejectUnauthorized: true, ...opts }, () => {
        resolve(`${s.getProtocol()} ${s.getCipher().name}`);
        s.destroy();
      });
      s.on('error', reject);
    });

  test('TLS 1.3 by default, TLS 1.2 with a forward-secret AEAD cipher', async () => {
    assert.match(await handshake({}), /^TLSv1\.3 /);
    assert.match(await handshake({ maxVersion: 'TLSv1.2' }), /^TLSv1\.2 ECDHE-RSA-AES\d+-GCM-SHA\d+$/);
  });

  test('refuses TLS 1.1 and ciphers without forward secrecy', async () => {
    await assert.rejects(handshake({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }));
    await assert.rejects(handshake({ maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' }));
  });
});
