// Templates: compile once (MJML, sanitising, text part), render per recipient.
// Tables of real author mistakes, each with the error an author would see.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, renderTemplate, type CompiledTemplate, type TemplateSource } from '../../src/compose/templates/index.ts';

const mjml = (inner: string, head = '') => `<mjml>\n<mj-head>${head}</mj-head>\n<mj-body>\n${inner}\n</mj-body>\n</mjml>`;
const section = (content: string) => `<mj-section><mj-column>\n${content}\n</mj-column></mj-section>`;

async function compiled(src: Partial<TemplateSource> & { body: string }, constants?: Record<string, unknown>): Promise<CompiledTemplate> {
  const r = await compileTemplate({ format: 'mjml', subject: 'Hello', ...src }, constants ? { constants } : {});
  if (!r.ok) assert.fail(r.error.detail);
  return r.value;
}

async function refusal(src: Partial<TemplateSource> & { body: string }, opts = {}): Promise<string> {
  const r = await compileTemplate({ format: 'mjml', subject: 'Hello', ...src }, opts);
  assert.equal(r.ok, false, 'compiled although it should not');
  if (r.ok) return '';
  assert.equal(r.error.code, 'request.invalid');
  return r.error.detail;
}

function rendered(t: CompiledTemplate, vars: Record<string, unknown>) {
  const r = renderTemplate(t, vars);
  if (!r.ok) assert.fail(r.error.detail);
  return r.value;
}

describe('compile and render', () => {
  test('MJML: personalised text, attributes and preview; values HTML-escaped; generated text part', async () => {
    const t = await compiled({
      subject: 'Hi {{ contact.first_name | default: "there" }}',
      body: mjml(section(`<mj-text><h1>Hello {{ contact.first_name | default: "there" }}</h1>
<p>{% if contact.vip %}VIP &amp; more{% else %}Regular{% endif %}</p>
<ul>{% for p in products %}<li>{{ p.name }}{% endfor %}</ul></mj-text>
<mj-button href="{{ unsubscribe_url }}">Unsubscribe</mj-button>`), '<mj-preview>News for {{ contact.first_name | default: "you" }}</mj-preview>'),
    });
    assert.equal(t.textFrom, 'html');
    assert.deepEqual(t.variables, ['contact', 'products', 'unsubscribe_url']);
    const r = rendered(t, { contact: { first_name: 'Zoë <b>', vip: true }, products: [{ name: 'A&B' }, { name: 'C' }], unsubscribe_url: 'https://shop.example/u/1?a=1&b=2' });
    assert.equal(r.subject, 'Hi Zoë <b>');
    assert.match(r.html, /<h1>Hello Zoë &lt;b&gt;<\/h1>/);
    assert.match(r.html, /<li>A&amp;B/);
    assert.match(r.html, /href="https:\/\/shop\.example\/u\/1\?a=1&amp;b=2"/);
    assert.match(r.html, /News for Zoë &lt;b&gt;/, 'the preheader is personalised');
    assert.ok(!/undefined|\{\{|\{%/.test(r.html));
    // the text part: raw values, links as "text [url]", no preheader, no upper-casing
    assert.match(r.text, /^Hello Zoë <b>$/m);
    assert.match(r.text, /VIP & more/);
    assert.match(r.text, /\* A&B\n \* C/);
    assert.match(r.text, /Unsubscribe \[https:\/\/shop\.example\/u\/1\?a=1&b=2\]/);
    assert.ok(!r.text.includes('News for'), 'hidden preheader not in the text part');
    assert.ok(!/\n\n\n/.test(r.text), 'no runs of blank lines left by Liquid tags');
  });

  test('HTML: the same rules without MJML; hand-written text part used as given', async () => {
    const t = await compiled({ format: 'html', body: '<p>Dear {{ name }},</p><p><a href="{{ url }}">Read</a></p>', text: 'Dear {{ name }}, read {{ url }}' });
    assert.equal(t.textFrom, 'source');
    const r = rendered(t, { name: 'Léa & co', url: 'https://shop.example/r?x=1&y=2' });
    assert.equal(r.html.replace(/\r\n/g, '\n'), '<p>Dear Léa &amp; co,</p><p><a href="https://shop.example/r?x=1&amp;y=2">Read</a></p>');
    assert.equal(r.text, 'Dear Léa & co, read https://shop.example/r?x=1&y=2', 'text is not HTML: no escaping');
  });

  const defaults: [string, Record<string, unknown>, string][] = [
    ['present', { contact: { first_name: 'Ana' } }, 'Hi Ana'],
    ['missing', { contact: {} }, 'Hi there'],
    ['null', { contact: { first_name: null } }, 'Hi there'],
    ['blank', { contact: { first_name: '  ' } }, 'Hi there'],
    ['no contact at all', {}, 'Hi there'],
  ];
  for (const [name, vars, expected] of defaults) {
    test(`default applies: ${name}`, async () => {
      const t = await compiled({ format: 'html', subject: 'Hi {{ contact.first_name | default: "there" }}', body: '<p>x</p>' });
      assert.equal(rendered(t, vars).subject, expected);
    });
  }

  const undefinedCases: [string, Partial<TemplateSource> & { body: string }, Record<string, unknown>, RegExp, string][] = [
    ['body', { format: 'html', body: '<p>\n  Hi {{ contact.first_name }}</p>' }, { contact: {} }, /^body line 2, column 6: "contact\.first_name" is not set in \{\{ contact\.first_name \}\}/, 'body'],
    ['body, null value', { format: 'html', body: '<p>{{ contact.first_name }}</p>' }, { contact: { first_name: null } }, /contact\.first_name/, 'body'],
    ['MJML body, mapped to the author\'s line', { body: mjml(section('<mj-text>\n{{ city }}</mj-text>')) }, {}, /^body line 6, column 1: "city" is not set/, 'body'],
    ['inside a loop', { format: 'html', body: '{% for p in products %}\n<li>{{ p.price }}</li>{% endfor %}' }, { products: [{}] }, /^body line 2, column 5: "p\.price"/, 'body'],
    ['subject', { format: 'html', subject: 'For {{ name }}', body: 'x' }, {}, /^subject column 8: "name" is not set/, 'subject'],
    ['hand-written text', { format: 'html', body: 'x', text: 'a\nb {{ code }}' }, {}, /^text line 2, column 6: "code" is not set/, 'text'],
  ];
  for (const [name, src, vars, re, field] of undefinedCases) {
    test(`an undefined variable without default fails, naming it: ${name}`, async () => {
      const r = renderTemplate(await compiled(src), vars);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.code, 'message.invalid');
      assert.equal(r.error.field, field);
      assert.match(r.error.detail, re);
    });
  }
});

describe('compile errors, with line and column', () => {
  const cases: [string, Partial<TemplateSource> & { body: string }, RegExp][] = [
    ['Liquid syntax error', { body: mjml(section('\n<mj-text>{% iff vip %}a</mj-text>')) }, /^body line 6, column 10: tag "iff" not found/],
    ['unclosed output', { format: 'html', body: '<p>\n  hi {{ name </p>' }, /^body line 2, column 6: output "\{\{ name <\/p>" not closed/],
    ['unclosed block', { format: 'html', body: '<p>\n{% if a %}x</p>' }, /^body line 2, column 1: tag \{% if a %\} not closed/],
    ['MJML: unknown attribute and element', { body: mjml(section('<mj-text colr="red">a</mj-text>\n<mj-foo></mj-foo>')) }, /^body line 5: Attribute colr is illegal \(mj-text\); body line 6: Element mj-foo doesn't exist/],
    ['MJML line after a multi-line Liquid comment', { body: mjml(section('{% comment %}\none\ntwo\n{% endcomment %}\n<mj-text colr="red">a</mj-text>')) }, /^body line 9: Attribute colr is illegal/],
    ['Liquid in an attribute MJML validates', { body: mjml(section('<mj-text color="{{ brand }}">a</mj-text>')) }, /^body line 5: Attribute color has invalid value: \{\{ brand \}\}.*Liquid cannot be used in attributes MJML checks/],
    ['not MJML', { body: 'hello' }, /^body: MJML could not read the template/],
    ['{% if %} around an mj-section', { body: mjml(`{% if vip %}\n${section('<mj-text>x</mj-text>')}\n{% endif %}`) }, /^body line 4, column 1: \{% if vip %\} does not survive MJML/],
    ['output between MJML elements', { body: mjml(section('{{ banner }}\n<mj-text>x</mj-text>')) }, /^body line 5, column 1: \{\{ banner \}\} does not survive MJML/],
    ['a block across two mj-text', { body: mjml(section('<mj-text>{% if vip %}a</mj-text>\n<mj-text>b{% endif %}</mj-text>')) }, /^body line 5, column 10: the Liquid block \{% if vip %\} … \{% endif %\} \(line 6\) does not wrap whole elements/],
    ['HTML: a block opening an element it does not close', { format: 'html', body: '<div>\n{% if a %}<div class="x">{% endif %}\nhi</div></div>' }, /^body line 2, column 1: the Liquid block .* <div> crosses its edge/],
    ['Liquid inside a stripped handler', { format: 'html', body: '<p>\n<b onclick="track({{ id }})">x</b></p>' }, /^body line 2, column 19: \{\{ id \}\} was inside something that was stripped/],
    ['include', { format: 'html', body: '<p>{% include "footer" %}</p>' }, /^body line 1, column 4: \{% include %\} is not available/],
    ['render', { format: 'html', body: '{% render "footer" %}' }, /\{% render %\} is not available/],
    ['layout', { format: 'html', body: '{% layout "base" %}' }, /\{% layout %\} is not available/],
    ['mj-include', { body: mjml('<mj-include path="/etc/passwd" />') }, /^body line 4: mj-include is not available/],
    ['the raw filter in HTML', { format: 'html', body: '<p>{{ bio | raw }}</p>' }, /raw filter is not allowed in HTML/],
    ['an unknown filter', { format: 'html', body: '<p>{{ x | shout }}</p>' }, /undefined filter: shout/],
    ['a line break in the subject', { format: 'html', subject: 'Hello\r\nBcc: x@example.org', body: 'x' }, /^subject: contains a line break/],
    ['a Liquid error in the subject', { format: 'html', subject: 'Hi {{ a | nope }}', body: 'x' }, /^subject column 4: undefined filter: nope/],
    ['a Liquid error in the text part', { format: 'html', body: 'x', text: 'ok\n{% endif %}' }, /^text line 2, column 1:/],
  ];
  for (const [name, src, re] of cases) {
    test(name, async () => assert.match(await refusal(src), re));
  }

  test('a template over 10 MB is refused before any parsing; the limit is configurable', async () => {
    assert.match(await refusal({ format: 'html', body: 'x'.repeat(10 * 1024 * 1024) }), /^the template is 10485765 bytes; at most 10485760 are accepted$/);
    assert.match(await refusal({ format: 'html', body: '<p>' + 'y'.repeat(2000) + '</p>' }, { maxBytes: 1000 }), /at most 1000/);
  });

  test('more than 20,000 Liquid tags are refused (parsing time grows with their square)', async () => {
    assert.match(await refusal({ format: 'html', body: '{{ a }}'.repeat(20_001) }), /^the template has 20001 Liquid tags and outputs; at most 20000 are accepted$/);
  });
});

describe('active content is stripped and listed', () => {
  const cases: [string, string, RegExp, string][] = [
    ['script', '<p>a</p><script src="https://t.example/x.js">track()</script><p>ok</p>', /<script|track/, 'script'],
    ['inline script with a fake end tag inside a string', '<script>var s = "</p>";</script><p>ok</p>', /<script|var s/, 'script'],
    ['iframe', '<iframe src="https://evil.example"><p>inside</p></iframe><p>ok</p>', /iframe|inside/, 'frame'],
    ['form with controls', '<form action="https://evil.example/login"><input name="pw"><button>Go</button></form><p>ok</p>', /form|input|button|Go</, 'form'],
    ['object', '<object data="x.swf"><param name="a" value="b"></object><p>ok</p>', /object|param/, 'object'],
    ['embed', '<embed src="x.swf"><p>ok</p>', /embed/, 'object'],
    ['event handler', '<p onclick="steal()" class="c">ok</p>', /onclick|steal/, 'event_handler'],
    ['handler after a slash', '<img src="a.png"/onerror=alert(1)><p>ok</p>', /onerror|alert/, 'event_handler'],
    ['javascript: URL', '<a href="javascript:alert(1)">ok</a>', /javascript/i, 'unsafe_url'],
    ['entity-encoded javascript: URL', '<a href="jav&#x61;script&colon;alert(1)">ok</a>', /jav/i, 'unsafe_url'],
    ['javascript: URL split by a tab', '<a href="java\tscript:alert(1)">ok</a>', /script:/i, 'unsafe_url'],
    ['data: document URL', '<a href="data:text/html;base64,PHNjcmlwdD4=">ok</a>', /data:/, 'unsafe_url'],
    ['meta refresh', '<meta http-equiv="refresh" content="0;url=https://evil.example"><p>ok</p>', /refresh|evil/, 'meta_refresh'],
  ];
  for (const [name, body, gone, code] of cases) {
    test(name, async () => {
      const t = await compiled({ format: 'html', body });
      const html = rendered(t, {}).html;
      assert.doesNotMatch(html, gone);
      assert.match(html, /ok/);
      assert.ok(t.notices.some((n) => n.code === code), JSON.stringify(t.notices));
      assert.match(t.notices.find((n) => n.code === code)!.detail, /^body line 1: removed /);
    });
  }

  test('what is harmless is kept: data: images, mailto:, Outlook conditional comments', async () => {
    const body = '<!--[if mso]><v:rect>x</v:rect><![endif]--><img src="data:image/png;base64,AAAA"><a href="mailto:a@shop.example">m</a>';
    const t = await compiled({ format: 'html', body });
    assert.deepEqual(t.notices, []);
    assert.equal(rendered(t, {}).html, body);
  });

  test('MJML output is sanitised too (mj-raw)', async () => {
    const t = await compiled({ body: mjml(section('<mj-raw><script>x()</script><a href="https://ok.example" onmouseover="y()">ok</a></mj-raw>')) });
    assert.deepEqual(t.notices.map((n) => n.code), ['script', 'event_handler']);
    assert.doesNotMatch(rendered(t, {}).html, /<script|onmouseover/);
  });

  test('{% raw %} content is sanitised like any HTML and its braces stay literal', async () => {
    for (const format of ['html', 'mjml'] as const) {
      const body = '{% raw %}<script>steal()</script><p>Write {{ name }} in templates</p>{% endraw %}';
      const t = await compiled({ format, body: format === 'html' ? body : mjml(section(`<mj-text>${body}</mj-text>`)) });
      assert.deepEqual(t.notices.map((n) => n.code), ['script'], format);
      const r = rendered(t, {});
      assert.doesNotMatch(r.html, /<script|steal/, format);
      assert.match(r.html, /<p>Write \{\{ name \}\} in templates<\/p>/, format);
      assert.match(r.text, /Write \{\{ name \}\} in templates/, format);
    }
  });

  test('a personalised URL is checked at render: javascript: from contact data fails the render', async () => {
    const t = await compiled({ format: 'html', body: '<p>\n<a href="{{ contact.website }}">site</a></p>' });
    const bad = renderTemplate(t, { contact: { website: ' JavaScript:alert(document.cookie)' } });
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.error.detail : '', /^body line 2, column 10: the value .* is a script or data URL/);
    assert.match(rendered(t, { contact: { website: 'https://ana.example' } }).html, /href="https:\/\/ana\.example"/);
  });
});

describe('header injection through personalised fields', () => {
  test('line breaks and controls in a personalised subject become spaces', async () => {
    const t = await compiled({ format: 'html', subject: 'Hello {{ name }}', body: 'x' });
    const r = rendered(t, { name: 'Ana\r\nBcc: victim@example.org\u0000\u2028x' });
    assert.equal(r.subject, 'Hello Ana Bcc: victim@example.org x');
    assert.ok(!/[\r\n\u0000-\u001f]/.test(r.subject));
  });

  test('a subject that personalises to nothing is refused', async () => {
    const t = await compiled({ format: 'html', subject: '{{ name | default: "" }}', body: 'x' });
    const r = renderTemplate(t, {});
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error.detail : '', /^subject: empty after personalisation/);
  });
});

describe('constants: rendered once at compile time', () => {
  test('outputs reading only constants are baked in; the rest stays per recipient', async () => {
    const t = await compiled({ body: mjml(section('<mj-text>{{ offer.code }} for {{ contact.first_name }}</mj-text><mj-button href="https://shop.example/?c={{ campaign.slug }}">Go</mj-button>')) },
      { offer: { code: 'SPRING <15>' }, campaign: { slug: 'spring' } });
    assert.deepEqual(t.variables, ['contact']);
    const r = rendered(t, { contact: { first_name: 'Ana' }, offer: { code: 'ignored' } });
    assert.match(r.html, /SPRING &lt;15&gt; for Ana/);
    assert.match(r.html, /href="https:\/\/shop\.example\/\?c=spring"/);
    assert.match(r.text, /SPRING <15> for Ana/);
  });

  test('a loop variable shadowing a constant is not baked in', async () => {
    const t = await compiled({ format: 'html', body: '{{ item.name }}{% for item in items %}/{{ item.name }}{% endfor %}' }, { item: { name: 'const' } });
    assert.equal(rendered(t, { items: [{ name: 'a' }, { name: 'b' }] }).html, 'const/a/b');
  });

  test('a missing constant is a compile error; an unsafe constant URL too', async () => {
    assert.match(await refusal({ format: 'html', body: '<p>\n{{ offer.code }}</p>' }, { constants: { offer: {} } }), /^body line 2, column 1: \{\{ offer\.code \}\}: undefined variable: offer\.code/);
    assert.match(await refusal({ format: 'html', body: '<a href="{{ link }}">x</a>' }, { constants: { link: 'javascript:x()' } }), /is a script or data URL/);
  });
});

describe('the generated text part', () => {
  test('a block inside an attribute vanishes from the text part without forcing per-render conversion', async () => {
    const t = await compiled({ format: 'html', body: '<div class="{% if vip %}gold{% else %}plain{% endif %}"><p>Hi {{ name }}</p></div>' });
    assert.equal(t.textFrom, 'html');
    assert.equal(rendered(t, { vip: true, name: 'Ana' }).text, 'Hi Ana\n');
  });

  test('when the conversion would lose a tag, the text is converted per recipient and a notice says so', async () => {
    const t = await compiled({ format: 'html', body: '<img src="a.png" alt="{% assign who = name %}"><p>Hi {{ who }}</p>' });
    assert.equal(t.textFrom, 'html-per-render');
    assert.ok(t.notices.some((n) => n.code === 'text_per_render'));
    assert.equal(rendered(t, { name: 'Ana' }).text, 'Hi Ana\n');
  });

  test('links around images only leave no bare URL in the text part', async () => {
    const t = await compiled({ format: 'html', body: '<a href="https://shop.example/"><img src="logo.png" alt="Shop"></a><p>Hi <a href="{{ url }}">there</a></p>' });
    assert.equal(rendered(t, { url: 'https://shop.example/x' }).text, 'Hi there [https://shop.example/x]\n');
  });

  test('braces the author wrote as entities stay text in both parts', async () => {
    const t = await compiled({ format: 'html', body: '<p>Use &#123;&#123; name &#125;&#125; in your own templates, {{ who }}</p>' });
    const r = rendered(t, { who: 'Ana' });
    assert.match(r.html, /&#123;&#123; name &#125;&#125; in your own templates, Ana/);
    assert.equal(r.text, 'Use {{ name }} in your own templates, Ana\n');
  });

  test('a runaway loop is stopped, not hung on', async () => {
    const t = await compiled({ format: 'html', body: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' });
    const r = renderTemplate(t, {});
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error.detail : '', /limit exceeded/);
  });
});
