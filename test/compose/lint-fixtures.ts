// Clean marketing messages, one per language, that the content lint must
// pass without a finding; the lint tests mutate them one field at a time.
import type { LintInput } from '../../src/compose/lint/index.ts';
import type { Zone } from '../peers/dns.ts';

const mx = (host: string) => ({ MX: [{ exchange: `mx.${host}`, priority: 10 }] });

/** The domains the clean messages and the cases use, as the loopback DNS server serves them. */
export const ZONE: Zone = {
  'maison-dupont.example': mx('maison-dupont.example'),
  'tienda-sol.example': mx('tienda-sol.example'),
  'harbour-books.example': mx('harbour-books.example'),
  'gmail.com': mx('gmail.com'),
  'a-only.example': { A: ['192.0.2.20'] },
  'aaaa-only.example': { AAAA: ['2001:db8::20'] },
  'bare.example': { TXT: ['v=spf1 -all'] },
  // RFC 7505 null MX: the domain says it takes no mail
  'null-mx.example': { MX: [{ exchange: '', priority: 0 }], A: ['192.0.2.21'] },
};

export const CLEAN_FR: LintInput = {
  kind: 'marketing',
  from: { email: 'lettre@maison-dupont.example', name: 'Maison Dupont' },
  replyTo: { email: 'contact@maison-dupont.example' },
  senderName: 'Maison Dupont SARL',
  subject: 'Nos nouvelles confitures de printemps',
  html: `<html><head><title>Maison Dupont</title><style>p { margin: 0 }</style></head><body>
<h1>Les confitures de printemps sont arrivées</h1>
<p>Cette saison, nos confitures de printemps mêlent la rhubarbe du jardin et les premières fraises de Plougastel.
Chaque pot est cuit en petite quantité, dans notre atelier de Quimper, comme le faisait déjà la grand-mère Dupont.</p>
<p><img src="https://www.maison-dupont.example/img/rhubarbe.jpg" alt="Un pot de confiture rhubarbe-fraise" width="600"></p>
<p><a href="https://www.maison-dupont.example/confitures?utm_source=lettre&amp;utm_medium=email">Découvrir les confitures de printemps</a></p>
<img src="https://www.maison-dupont.example/o.gif" width="1" height="1">
</body></html>`,
  text: `Les confitures de printemps sont arrivées

Cette saison, nos confitures de printemps mêlent la rhubarbe du jardin et les premières fraises de Plougastel.
Chaque pot est cuit en petite quantité, dans notre atelier de Quimper.

Découvrir les confitures : https://www.maison-dupont.example/confitures`,
};

export const CLEAN_ES: LintInput = {
  kind: 'marketing',
  from: { email: 'novedades@tienda-sol.example', name: 'Tienda Sol' },
  senderName: 'Tienda Sol S.L.',
  subject: 'Llegan las sandalias de verano',
  html: `<p>Ya están aquí las sandalias de verano: piel curtida en Ubrique, suela cosida a mano y tres colores nuevos
para acompañarte a la playa o a la ciudad.</p>
<p><img src="https://tienda-sol.example/img/sandalias.jpg" alt="Sandalias de piel en color arena"></p>
<p><a href="https://tienda-sol.example/verano">Ver las sandalias de verano</a> o escríbenos a
<a href="mailto:hola@tienda-sol.example">hola@tienda-sol.example</a>.</p>`,
  text: `Ya están aquí las sandalias de verano: piel curtida en Ubrique, suela cosida a mano y tres colores nuevos.
Ver las sandalias: https://tienda-sol.example/verano`,
};

export const CLEAN_EN: LintInput = {
  kind: 'marketing',
  from: { email: 'hello@harbour-books.example', name: 'Harbour Books' },
  senderName: 'Harbour Books Ltd',
  subject: 'Three new novels for your autumn reading',
  html: `<h2>Autumn reading</h2>
<p>Our booksellers have picked three new novels for the long evenings: a family saga set on the Cornish coast,
a quiet detective story from Edinburgh, and a debut about a lighthouse keeper.</p>
<p><a href="https://www.harbour-books.example/autumn">www.harbour-books.example/autumn</a></p>
<img src="https://www.harbour-books.example/covers.png" alt="">`,
  text: `Autumn reading: three new novels picked by our booksellers, a family saga, a detective story and a debut.
https://www.harbour-books.example/autumn`,
};

export const CLEAN = { fr: CLEAN_FR, es: CLEAN_ES, en: CLEAN_EN };

/** CLEAN_FR with one HTML paragraph replaced, keeping the rest of the mail as is. */
export function frWithParagraph(p: string): LintInput {
  return { ...CLEAN_FR, html: CLEAN_FR.html!.replace(/<p>Cette saison[\s\S]*?<\/p>/, `<p>${p}</p>`) };
}
