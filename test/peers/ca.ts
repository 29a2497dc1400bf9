// A certificate authority made in the test, so TLS peers on loopback present
// real CA-signed certificates and clients verify them with
// `rejectUnauthorized: true` and `ca: caPem`, trusting nothing else.
import { isIP } from 'node:net';
import { generate } from 'selfsigned';
import type { TlsMaterial } from '../../src/net/tls.ts';

export interface TestCa {
  /** the CA certificate: the only thing a test client trusts */
  caPem: string;
  /** a leaf certificate signed by the CA, for DNS names and IP addresses (e.g. "127.0.0.2") */
  issue(names: string[]): Promise<TlsMaterial>;
}

const DAY = 24 * 3600 * 1000;

export async function createTestCa(): Promise<TestCa> {
  // RSA, not EC: with the @peculiar/asn1-schema copies this install holds
  // (2.6.0 at the top, 2.11.1 nested) selfsigned fails to build EC certificates.
  const validity = () => ({ notBeforeDate: new Date(Date.now() - DAY), notAfterDate: new Date(Date.now() + 30 * DAY) });
  const ca = await generate([{ name: 'commonName', value: 'envoi test CA' }], {
    keyType: 'rsa',
    algorithm: 'sha256',
    ...validity(),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return {
    caPem: ca.cert,
    async issue(names) {
      if (names.length === 0) throw new Error('a certificate needs at least one name');
      const leaf = await generate([{ name: 'commonName', value: names[0] }], {
        keyType: 'rsa',
        algorithm: 'sha256',
        ...validity(),
        ca: { key: ca.private, cert: ca.cert },
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
          {
            name: 'subjectAltName',
            altNames: names.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })),
          },
        ],
      });
      return { key: leaf.private, cert: leaf.cert };
    },
  };
}
