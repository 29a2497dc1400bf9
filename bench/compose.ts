// Benchmark: composing campaign mail per recipient (issue 4).
//
//   node --import tsx bench/compose.ts [--messages 20000] [--threads 2] [--naive 1000]
//
// Our path: an MJML template compiled once (MJML rendered once), then per
// recipient: Liquid personalisation (subject, HTML, text) → fast-mime →
// DKIM with RSA-2048 and Ed25519 (DkimSigner, keys parsed once). Measured on
// one thread, then with one worker thread per core (--threads).
// The naive chain, in the same run, as the reference: per message Liquid on
// the MJML source, mjml2html, html-to-text, MailComposer, and mailauth's
// dkimSign with both keys.
// Prints one JSON line: messages/s, CPU ms per message, the stage split, the
// sizes, the ratio to the naive chain, and peak RSS (after our one-thread run,
// and overall, workers and the naive chain included). Wall-clock rates drop
// when other processes share the cores; CPU ms per message does much less,
// so per-core capacity is also given as 1000 / CPU ms (msgPerSecPerCoreByCpu).
import crypto from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Liquid } from 'liquidjs';
import mjml2html from 'mjml';
import { convert } from 'html-to-text';
import MailComposer from 'nodemailer/lib/mail-composer';
import { dkimSign } from 'mailauth';
import { compileTemplate, renderTemplate } from '../src/compose/templates/index.ts';
import { buildMime, prepareMime } from '../src/compose/fast-mime.ts';
import { DkimSigner, generateDkimKeyPair } from '../src/compose/dkim.ts';

const DOMAIN = 'maison-verte.example';
const SUBJECT = '{{ contact.first_name | default: "Hello" }}, the spring collection is here: {{ offer.percent }}% off';

// A realistic ~12 KB newsletter: header, hero, personalised intro, three
// product cards, a loop of recommendations, a VIP/non-VIP block, journal
// teasers, a store block, social links and a footer with per-recipient links.
const P = (style: string, text: string) => `<p style="margin:0${style ? ';' + style : ''};">${text}</p>`;
const section = (attrs: string, ...columns: string[]) => `
    <mj-section ${attrs}>
      ${columns.join('\n      ')}
    </mj-section>`;
const product = (slug: string, name: string, note: string, price: string) => `<mj-column width="33.33%" css-class="stack-pad">
        <mj-image src="https://cdn.${DOMAIN}/products/${slug}.jpg" alt="${name}" padding="10px" border-radius="6px" href="https://${DOMAIN}/p/${slug}?utm_campaign={{ campaign.slug }}" />
        <mj-text css-class="product-title" padding="4px 10px 0px" font-weight="600"><a href="https://${DOMAIN}/p/${slug}?utm_campaign={{ campaign.slug }}">${name}</a></mj-text>
        <mj-text mj-class="muted" padding="2px 10px 0px">${note}</mj-text>
        <mj-text mj-class="price" padding="4px 10px 8px">€ ${price}</mj-text>
      </mj-column>`;
const journal = (slug: string, alt: string, title: string, teaser: string, more: string) => section('background-color="#ffffff" padding="0px 24px 8px"',
  `<mj-column width="35%"><mj-image src="https://cdn.${DOMAIN}/journal/${slug}.jpg" alt="${alt}" padding="8px 10px" border-radius="6px" /></mj-column>`,
  `<mj-column width="65%"><mj-text padding="8px 10px">${P('0 0 6px;font-weight:600', title)}
        ${P('', `${teaser} <a href="https://${DOMAIN}/journal/${slug}?utm_campaign={{ campaign.slug }}">${more}</a>`)}</mj-text></mj-column>`);
const promise = (title: string, line: string) =>
  `<mj-column width="33.33%"><mj-text color="#ffffff" align="center" font-size="13px" line-height="19px"><strong>${title}</strong><br />${line}</mj-text></mj-column>`;
const heading = (text: string) => `<mj-text font-size="18px" font-weight="700" color="#1c2a25" padding-bottom="2px">${text}</mj-text>`;
const td = 'padding:8px 0;border-bottom:1px solid #e3e8e4;';

const TEMPLATE = `<mjml lang="en">
  <mj-head>
    <mj-title>Spring collection at Maison Verte</mj-title>
    <mj-preview>{{ contact.first_name | default: "Hello" }}, the spring collection is here: {{ offer.percent }}% off until {{ offer.ends }}</mj-preview>
    <mj-font name="Inter" href="https://fonts.${DOMAIN}/inter.css" />
    <mj-attributes>
      <mj-all font-family="Inter, Helvetica, Arial, sans-serif" />
      <mj-text font-size="15px" line-height="23px" color="#2d3b36" />
      <mj-button background-color="#1f6f50" color="#ffffff" font-size="15px" font-weight="600" border-radius="6px" inner-padding="12px 26px" />
      <mj-class name="muted" color="#7a8a84" font-size="12px" line-height="18px" />
      <mj-class name="price" color="#1f6f50" font-size="17px" font-weight="700" />
    </mj-attributes>
    <mj-style inline="inline">.product-title a { color: #2d3b36; text-decoration: none; } .footer a { color: #7a8a84; }</mj-style>
    <mj-style>@media only screen and (max-width: 480px) { .hide-mobile { display: none !important; } .stack-pad { padding-bottom: 18px !important; } }</mj-style>
  </mj-head>
  <mj-body background-color="#f3f5f1" width="620px">${section('padding="14px 0px"',
    '<mj-column><mj-text mj-class="muted" align="center">Spring collection, {{ offer.percent }}% off for members. <a href="{{ links.browser }}">View this email in your browser</a></mj-text></mj-column>')}${section('background-color="#ffffff" padding="22px 24px 10px" border-radius="10px 10px 0 0"',
    `<mj-column width="50%"><mj-image src="https://cdn.${DOMAIN}/mail/logo@2x.png" alt="Maison Verte" width="150px" align="left" padding="0px" href="https://${DOMAIN}/?utm_campaign={{ campaign.slug }}" /></mj-column>`,
    '<mj-column width="50%" css-class="hide-mobile"><mj-text align="right" mj-class="muted" padding="8px 0px">Member no. {{ contact.member_id }}<br />{{ contact.points | default: 0 }} green points</mj-text></mj-column>')}${section('background-color="#ffffff" padding="0px"',
    `<mj-column><mj-image src="https://cdn.${DOMAIN}/mail/spring-hero.jpg" alt="Linen, ceramics and plants from the spring collection" padding="0px" href="{{ links.collection }}" /></mj-column>`)}${section('background-color="#ffffff" padding="26px 24px 6px"', `<mj-column>
        <mj-text font-size="26px" line-height="32px" font-weight="700" color="#1c2a25"><h1 style="margin:0;font-size:26px;line-height:32px;">Hello {{ contact.first_name | default: "there" }}, spring has arrived</h1></mj-text>
        <mj-text>
          ${P('0 0 12px', 'Our spring collection is in the shop{% if contact.city %}, and in our {{ contact.city }} store from Saturday{% endif %}. Washed linen in four new colours, hand-thrown stoneware from a workshop in Limousin, and the first plants of the season.')}
          ${P('', 'As a member you get <strong>{{ offer.percent }}% off</strong> everything new until {{ offer.ends }} with the code <strong style="letter-spacing:1px;">{{ offer.code }}</strong>.')}
        </mj-text>
        <mj-button href="{{ links.collection }}" align="left" padding="18px 25px 24px">Discover the collection</mj-button>
      </mj-column>`)}${section('background-color="#ffffff" padding="0px 14px 10px"',
    product('linen-throw-sage', 'Washed linen throw', 'Sage green, 130 × 170 cm', '89'), product('stoneware-bowls', 'Stoneware bowls', 'Set of four, oat glaze', '64'),
    product('olive-tree', 'Olive tree', '80 cm, terracotta pot', '119'))}${section('background-color="#ffffff" padding="8px 24px 18px"', `<mj-column>${heading('Picked for you')}
        <mj-text padding-top="6px">
          <table role="presentation" cellpadding="0" cellspacing="0" width="100%" style="border-collapse:collapse;">
            {% for item in recommendations %}
            <tr>
              <td style="${td}font-size:15px;"><a href="{{ item.url }}" style="color:#2d3b36;text-decoration:none;font-weight:600;">{{ item.name }}</a><br /><span style="color:#7a8a84;font-size:12px;">{{ item.note | default: "New this season" }}</span></td>
              <td style="${td}text-align:right;color:#1f6f50;font-weight:700;white-space:nowrap;">€ {{ item.price }}</td>
            </tr>
            {% endfor %}
          </table>
        </mj-text>
      </mj-column>`)}${section('background-color="#1f6f50" padding="18px 14px"',
    promise('Free delivery', 'from € 60, carbon-neutral'), promise('60-day returns', 'free, in store or by post'), promise('Made to last', 'repairs for life on furniture'))}${section('background-color="#e7efe9" padding="22px 24px"', `<mj-column>
        <mj-text>
          {% if contact.vip %}
          ${P('0 0 8px;font-weight:700;color:#1f6f50', 'Your VIP preview')}
          ${P('', 'You have {{ contact.points }} green points. Spend 500 of them on the spring preview evening at our {{ contact.city | default: "Paris" }} store on {{ offer.preview_date }}: a glass of crémant, the designers, and first pick of the limited ceramics.')}
          {% else %}
          ${P('0 0 8px;font-weight:700;color:#1f6f50', 'Earn green points')}
          ${P('', 'Every euro spent earns a green point, and 500 points open the door to our preview evenings. You have {{ contact.points | default: 0 }} points so far.')}
          {% endif %}
        </mj-text>
      </mj-column>`)}${section('background-color="#ffffff" padding="24px 24px 8px"',
    `<mj-column>${heading('From the journal')}<mj-divider border-width="1px" border-color="#e3e8e4" padding="8px 25px" /></mj-column>`)}${
    journal('a-week-at-the-kiln', 'The ceramics workshop in Limousin', 'A week at the kiln', 'We spent a week with Claire and Mathieu, who throw every bowl of the collection by hand.', 'Read the story')}${
    journal('linen-care', 'Linen drying outdoors', 'Caring for washed linen', 'Cold wash, line dry, never iron: five habits that keep linen soft for twenty years.', 'Read the guide')}${
    journal('spring-table', 'A table laid for a spring lunch', 'Laying a spring table', 'Three colours, one tablecloth and whatever the market had: our stylist Inès on easy spring lunches.', 'See the table')}${section('background-color="#ffffff" padding="16px 24px 20px" border-radius="0 0 10px 10px"', `<mj-column><mj-text>
        ${P('0 0 6px;font-weight:700', 'Your nearest store{% if contact.city %}: {{ contact.city }}{% endif %}')}
        ${P('', 'Open Tuesday to Saturday, 10:00 to 19:00, and on Sundays in April. Bring this email to the counter for a free linen tote with any purchase over € 40 (one per member, while stocks last).')}
      </mj-text></mj-column>`)}${section('padding="20px 0px 0px"', `<mj-column><mj-social font-size="13px" icon-size="26px" mode="horizontal" padding="0px">
        <mj-social-element name="instagram-noshare" href="https://instagram.example/maisonverte">Instagram</mj-social-element>
        <mj-social-element name="pinterest-noshare" href="https://pinterest.example/maisonverte">Pinterest</mj-social-element>
        <mj-social-element name="facebook-noshare" href="https://facebook.example/maisonverte">Facebook</mj-social-element>
      </mj-social></mj-column>`)}${section('padding="12px 24px 30px"', `<mj-column><mj-text mj-class="muted" align="center" css-class="footer">
        You receive this email because you joined Maison Verte membership as {{ contact.email }}.<br />
        <a href="{{ links.preferences }}">Email preferences</a> · <a href="{{ links.unsubscribe }}">Unsubscribe</a><br />
        Maison Verte SAS, 14 rue des Jardiniers, 69002 Lyon, France
      </mj-text></mj-column>`)}
  </mj-body>
</mjml>`;

const FIRST = ['Anne', 'Bruno', 'Chloé', 'David', 'Élodie', 'François', 'Gaëlle', 'Hugo', 'Inès', 'Julien', '', 'Léa', 'Zoë', 'Marc'];
const CITY = ['Paris', 'Lyon', null, 'Toulouse', 'Nantes', 'Lille', null, 'Bordeaux'];

/** The campaign's data, the same for every recipient: given to compileTemplate as constants. */
const CAMPAIGN = { offer: { percent: 15, ends: '30 April', code: 'SPRING15', preview_date: '12 April' }, campaign: { slug: 'spring-2025' } };

/** One recipient's data, as the audience stage would hand it over. */
function recipient(i: number) {
  const token = crypto.createHash('sha256').update(String(i)).digest('base64url').slice(0, 22);
  return {
    contact: { first_name: FIRST[i % FIRST.length], email: `member${i}@mail${i % 20}.example-isp.fr`, member_id: `MV-${100000 + i}`, points: (i * 37) % 900, city: CITY[i % CITY.length], vip: i % 7 === 0 },
    links: { browser: `https://m.${DOMAIN}/v/${token}`, collection: `https://${DOMAIN}/spring?utm_campaign=spring-2025`, preferences: `https://m.${DOMAIN}/p/${token}`, unsubscribe: `https://m.${DOMAIN}/u/${token}` },
    recommendations: [
      { url: `https://${DOMAIN}/p/linen-napkins`, name: 'Linen napkins, set of four', price: 29 },
      { url: `https://${DOMAIN}/p/oat-mug`, name: 'Oat mug', price: 18, note: 'Back in stock' },
      ...(i % 3 === 0 ? [{ url: `https://${DOMAIN}/p/fig-tree`, name: 'Fig tree', price: 74 }] : []),
    ],
  };
}

interface Keys { rsaPem: string; edPem: string }

/** Our path, set up once per thread: returns the per-recipient function and stage timers. */
async function ourPath(keys: Keys) {
  const compileStart = performance.now();
  const tpl = await compileTemplate({ format: 'mjml', subject: SUBJECT, body: TEMPLATE }, { constants: CAMPAIGN });
  const compileMs = performance.now() - compileStart;
  if (!tpl.ok) throw new Error(tpl.error.detail);
  const signer = new DkimSigner([
    { domain: DOMAIN, selector: 'mv2025r', algorithm: 'rsa-sha256', privateKey: crypto.createPrivateKey(keys.rsaPem) },
    { domain: DOMAIN, selector: 'mv2025e', algorithm: 'ed25519-sha256', privateKey: crypto.createPrivateKey(keys.edPem) },
  ]);
  const prepared = prepareMime({ headers: [
    ['From', { name: 'Maison Verte', email: `news@${DOMAIN}` }], ['Reply-To', { name: 'Maison Verte service client', email: `service@${DOMAIN}` }],
    ['List-Id', `Maison Verte news <news.${DOMAIN}>`], ['Feedback-ID', 'spring-2025:t1:news:envoi'],
  ] });
  const render = (i: number) => {
    const v = recipient(i);
    const r = renderTemplate(tpl.value, v);
    if (!r.ok) throw new Error(r.error.detail);
    return { v, r: r.value };
  };
  const build = (i: number, { v, r }: ReturnType<typeof render>) => buildMime(prepared, {
    headers: [
      ['To', { name: v.contact.first_name, email: v.contact.email }], ['Subject', r.subject], ['Message-ID', `<spring-2025.${i}@${DOMAIN}>`],
      ['List-Unsubscribe', `<${v.links.unsubscribe}>, <mailto:unsub-${i}@bounce.${DOMAIN}>`], ['List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'],
    ],
    text: r.text, html: r.html, date: new Date(),
  });
  const compose = (i: number): Buffer => signer.sign(build(i, render(i)));
  const sample = render(1).r;
  return { compose, render, build, signer, compileMs, htmlBytes: Buffer.byteLength(sample.html), textBytes: Buffer.byteLength(sample.text) };
}

/** CPU µs per message of each stage, in separate loops (CPU time: wall time suffers from other processes). */
function stageMicros(ours: Awaited<ReturnType<typeof ourPath>>, n: number) {
  const cpuMicros = (f: (i: number) => unknown) => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) f(i);
    return Math.round(cpuMs(process.cpuUsage(c0)) * 1000 / n);
  };
  const rendered = Array.from({ length: n }, (_, i) => ours.render(i));
  const built = rendered.map((r, i) => ours.build(i, r));
  return { render: cpuMicros(ours.render), mime: cpuMicros((i) => ours.build(i, rendered[i])), sign: cpuMicros((i) => ours.signer.sign(built[i])) };
}

/** The reference: every step per message, each library used the straightforward way. */
async function naivePath(keys: Keys) {
  const liquid = new Liquid({ outputEscape: 'escape' });
  return async (i: number): Promise<Buffer> => {
    const v = { ...recipient(i), ...CAMPAIGN };
    const { html } = await mjml2html(await liquid.parseAndRender(TEMPLATE, v), { validationLevel: 'soft' });
    const raw = await new MailComposer({
      from: { name: 'Maison Verte', address: `news@${DOMAIN}` }, replyTo: { name: 'Maison Verte service client', address: `service@${DOMAIN}` },
      to: { name: v.contact.first_name, address: v.contact.email },
      subject: await liquid.parseAndRender(SUBJECT, v), text: convert(html, { wordwrap: 78 }), html,
      messageId: `<spring-2025.${i}@${DOMAIN}>`, date: new Date(),
      headers: {
        'List-Id': `Maison Verte news <news.${DOMAIN}>`, 'Feedback-ID': 'spring-2025:t1:news:envoi',
        'List-Unsubscribe': `<${v.links.unsubscribe}>, <mailto:unsub-${i}@bounce.${DOMAIN}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    }).compile().build();
    const { signatures } = await dkimSign(raw, { canonicalization: 'relaxed/relaxed', signatureData: [
      { signingDomain: DOMAIN, selector: 'mv2025r', privateKey: keys.rsaPem, algorithm: 'rsa-sha256' },
      { signingDomain: DOMAIN, selector: 'mv2025e', privateKey: keys.edPem, algorithm: 'ed25519-sha256' },
    ] } as Parameters<typeof dkimSign>[1]);
    return Buffer.concat([Buffer.from(signatures), raw]);
  };
}

/** Runs fn for messages [from, to), returning wall ms, CPU ms (whole process) and bytes. */
async function measure(from: number, to: number, fn: (i: number) => Buffer | Promise<Buffer>) {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let bytes = 0;
  for (let i = from; i < to; i++) bytes += (await fn(i)).length;
  return { wallMs: performance.now() - start, cpuMs: cpuMs(process.cpuUsage(cpu0)), bytes };
}

if (!isMainThread) {
  // a worker: set up, warm up, report ready, then run its share when told
  const { keys, from, to } = workerData as { keys: Keys; from: number; to: number };
  const ours = await ourPath(keys);
  for (let i = 0; i < 300; i++) ours.compose(i);
  parentPort!.postMessage({ ready: true });
  parentPort!.once('message', () => {
    for (let i = from; i < to; i++) ours.compose(i);
    parentPort!.postMessage({ done: true });
  });
} else {
  await main();
}

async function main() {
  const { values: args } = parseArgs({ options: {
    messages: { type: 'string', default: '20000' }, threads: { type: 'string', default: String(os.availableParallelism()) }, naive: { type: 'string', default: '1000' },
  } });
  const [messages, threads, naiveMessages] = [Number(args.messages), Number(args.threads), Number(args.naive)];
  const keys: Keys = { rsaPem: generateDkimKeyPair('rsa-sha256').privateKeyPem, edPem: generateDkimKeyPair('ed25519-sha256').privateKeyPem };

  // one thread
  const ours = await ourPath(keys);
  for (let i = 0; i < 500; i++) ours.compose(i);
  const loadAvg = os.loadavg()[0]; // other processes on the machine lower the wall-clock rates
  const one = await measure(0, messages, ours.compose);
  const peakRssOursMB = Math.round(process.resourceUsage().maxRSS / 1024);
  const stages = stageMicros(ours, Math.min(messages, 300));
  log(`one thread: ${rate(messages, one.wallMs)} msg/s`);

  // one worker per core
  let threaded: Record<string, number> | undefined;
  if (threads > 1) {
    const t = await runWorkers(keys, messages, threads);
    threaded = { threads, messages, msgPerSec: rate(messages, t.wallMs), cpuMsPerMsg: round(t.cpuMs / messages, 3) };
    log(`${threads} threads: ${threaded.msgPerSec} msg/s`);
  }

  // the naive chain
  const naive = await naivePath(keys);
  for (let i = 0; i < 20; i++) await naive(i);
  const ref = await measure(0, naiveMessages, naive);
  log(`naive chain: ${rate(naiveMessages, ref.wallMs)} msg/s`);

  const oneRate = rate(messages, one.wallMs);
  console.log(JSON.stringify({
    bench: 'compose', node: process.version, cpus: os.availableParallelism(), loadAvgAtStart: round(loadAvg, 1),
    template: { mjmlBytes: Buffer.byteLength(TEMPLATE), htmlBytes: ours.htmlBytes, textBytes: ours.textBytes, messageBytes: Math.round(one.bytes / messages), compileMs: round(ours.compileMs, 1) },
    ours: { threads: 1, messages, msgPerSec: oneRate, cpuMsPerMsg: round(one.cpuMs / messages, 3), msgPerSecPerCoreByCpu: Math.round(messages / (one.cpuMs / 1000)), stageCpuMicros: stages },
    oursThreaded: threaded ?? null,
    naive: { messages: naiveMessages, msgPerSec: rate(naiveMessages, ref.wallMs), cpuMsPerMsg: round(ref.cpuMs / naiveMessages, 3), messageBytes: Math.round(ref.bytes / naiveMessages) },
    ratio: round(oneRate / rate(naiveMessages, ref.wallMs), 1),
    ratioByCpu: round((ref.cpuMs / naiveMessages) / (one.cpuMs / messages), 1),
    peakRssOursMB,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }));
}

/** Workers boot through tsx's API: on Node 20 the --import hook does not reach worker threads. */
async function runWorkers(keys: Keys, messages: number, threads: number) {
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((api) => { api.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const per = Math.ceil(messages / threads);
  const workers = Array.from({ length: threads }, (_, k) =>
    new Worker(boot, { eval: true, workerData: { keys, from: k * per, to: Math.min(messages, (k + 1) * per) } }));
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const done = workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); }));
  for (const w of workers) w.postMessage('go');
  await Promise.all(done);
  const result = { wallMs: performance.now() - start, cpuMs: cpuMs(process.cpuUsage(cpu0)) };
  await Promise.all(workers.map((w) => w.terminate()));
  return result;
}

function rate(n: number, ms: number): number { return Math.round(n / (ms / 1000)); }
function round(x: number, digits: number): number { return Number(x.toFixed(digits)); }
function log(line: string): void { process.stderr.write(line + '\n'); }
function cpuMs(u: NodeJS.CpuUsage): number { return (u.user + u.system) / 1000; }
