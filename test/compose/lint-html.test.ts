// The lint's view of a message: the tolerant HTML scan (links with their
// text, images with their alt, visible text), URLs in a text part, and the
// text folding behind excerpts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEntities, scanHtml } from '../../src/compose/lint/html.ts';
import { excerptAround, fold } from '../../src/compose/lint/text.ts';
import { buildView } from '../../src/compose/lint/view.ts';
import { lint } from '../../src/compose/lint/index.ts';
import { CLEAN_FR } from './lint-fixtures.ts';

describe('links and images', () => {
  test('href entities decoded, link text from nested markup', () => {
    const { links } = scanHtml('<p><A HREF="https://shop.example/?a=1&amp;b=2&#38;c=3"><b>Our</b> <i>shop</i>&nbsp;now</A></p>');
    assert.deepEqual(links, [{ href: 'https://shop.example/?a=1&b=2&c=3', text: 'Our shop now' }]);
  });

  test('quoting styles, a ">" inside quotes, the first of two attributes wins', () => {
    const { links, images } = scanHtml(`<a title="a > b" href='https://a.example/x'>A</a><a href=https://b.example/y href="https://c.example/">B</a><img alt="1 > 0" src=https://a.example/i.png>`);
    assert.deepEqual(links.map((l) => l.href), ['https://a.example/x', 'https://b.example/y']);
    assert.deepEqual(images, [{ src: 'https://a.example/i.png', alt: '1 > 0' }]);
  });

  test('an image link takes its text from the alt; an unclosed <a> ends at the next one', () => {
    const { links } = scanHtml('<a href="https://a.example/"><img src="x.png" alt="www.a.example"></a><a href="https://b.example/">B <a href="https://c.example/">C</a>');
    assert.deepEqual(links, [
      { href: 'https://a.example/', text: 'www.a.example' },
      { href: 'https://b.example/', text: 'B' },
      { href: 'https://c.example/', text: 'C' },
    ]);
  });

  test('alt absent, empty and present are told apart; width and height kept', () => {
    const { images } = scanHtml('<img src="a.png"><img src="b.png" alt=""><img src="c.png" alt="C" width="1" height="1"/>');
    assert.deepEqual(images, [{ src: 'a.png', alt: undefined }, { src: 'b.png', alt: '' }, { src: 'c.png', alt: 'C', width: '1', height: '1' }]);
  });

  test('comments (Outlook blocks included), scripts and styles are not read', () => {
    const html = '<!--[if mso]><v:roundrect href="http://10.0.0.1/"></v:roundrect><a href="http://10.0.0.2/">x</a><![endif]-->'
      + '<!--[if !mso]><!--><a href="https://shop.example/">Shop</a><!--<![endif]--><script>document.write(\'<a href="http://10.0.0.3/">\')</script><style>a{}</style>';
    const scan = scanHtml(html);
    assert.deepEqual(scan.links, [{ href: 'https://shop.example/', text: 'Shop' }]);
    assert.equal(scan.text.trim(), 'Shop');
  });

  test('what follows </html> is visible text, as mail clients show it; the head is not', () => {
    const scan = scanHtml('<html><head><title>Secret title</title></head><body><p>Inside</p></body></html><p>After the end</p>');
    assert.match(scan.text, /Inside[\s\S]*After the end/);
    assert.doesNotMatch(scan.text, /Secret/);
  });

  test('headings keep their case (html-to-text would upper-case them)', () => {
    assert.equal(scanHtml('<h1>Nos confitures</h1>').text.trim(), 'Nos confitures');
  });

  test('broken markup never throws and is scanned in linear time', () => {
    for (const bad of ['<a href="https://x.example/', '<a href=', '<img src="a', '<<<>>>', '<a\nhref\n=\n"https://x.example/"\n>x', '</a></a><a>']) {
      assert.doesNotThrow(() => scanHtml(bad));
    }
    const started = Date.now();
    scanHtml('<a title="x'.repeat(50_000));
    scanHtml('<a href=x '.repeat(50_000));
    scanHtml('<!--<script>'.repeat(50_000));
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });

  test('decodeEntities: numeric, hex, the XML names; unknown names kept', () => {
    assert.equal(decodeEntities('&#104;&#x74;tp&colon;&amp;&lt;&GT;&unknown;&#0;'), 'http&colon;&<>&unknown;\ufffd');
  });
});

describe('the view', () => {
  test('URLs in the text part, without the sentence\'s punctuation', () => {
    const v = buildView({ ...CLEAN_FR, html: undefined, text: 'Voir https://a.example/x. Et (https://b.example/y), ou https://c.example/z!' });
    assert.deepEqual(v.links.map((l) => [l.href, l.where]), [['https://a.example/x', 'text'], ['https://b.example/y', 'text'], ['https://c.example/z', 'text']]);
  });

  test('the HTML size is counted in UTF-8 bytes', () => {
    assert.equal(buildView({ ...CLEAN_FR, html: 'é'.repeat(10) }).htmlBytes, 20);
  });

  test('a large newsletter is linted quickly', async () => {
    const block = '<p>Nos confitures de printemps, cuites à Quimper. <a href="https://www.maison-dupont.example/p/{{i}}">Voir</a> <img src="https://www.maison-dupont.example/i.jpg" alt="Pot"></p>\n';
    const html = Array.from({ length: 800 }, (_, i) => block.replace('{{i}}', String(i))).join('');
    const started = Date.now();
    const findings = await lint({ ...CLEAN_FR, html });
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    assert.deepEqual(findings.map((f) => f.id).sort(), ['dns.skipped', 'structure.html-too-large']);
  });
});

describe('folding and excerpts', () => {
  test('fold lowers, strips accents and ligatures, and maps back to the original', () => {
    const f = fold('Cœur ÉTÉ’s');
    assert.equal(f.text, "coeur ete's");
    assert.equal(f.map[f.text.indexOf('ete')], 'Cœur '.length);
    assert.equal(f.map[f.text.length], 'Cœur ÉTÉ’s'.length);
  });

  test('excerpts are at most 120 characters, centred on the hit, and never split an emoji', () => {
    const s = `${'a'.repeat(200)} poker ${'b'.repeat(200)}`;
    const e = excerptAround(s, 201, 206);
    assert.ok(e.length <= 120 && e.startsWith('…') && e.endsWith('…') && e.includes('poker'));
    const emoji = `${'😀'.repeat(100)}poker${'😀'.repeat(100)}`;
    const x = excerptAround(emoji, 200, 205);
    assert.doesNotMatch(x, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  });
});
