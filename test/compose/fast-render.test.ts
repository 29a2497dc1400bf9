// The plan renderer (compose/templates/fast-render.ts) must print exactly
// what liquidjs prints, or give the render back to liquidjs: the same
// templates and thousands of generated recipients rendered both ways.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { liquid, present, URL_GUARD } from '../../src/compose/templates/liquid.ts';
import { planOf, renderPlan } from '../../src/compose/templates/fast-render.ts';
import { compileTemplate, renderTemplate } from '../../src/compose/templates/index.ts';

const PLANNED: [engine: 'html' | 'plain', source: string][] = [
  ['html', 'Hi {{ contact.first_name | default: "there" }}!'],
  ['plain', 'Hi {{ contact.first_name | default: "there" }}, <{{ contact.last_name | default: \'&\' }}>'],
  ['html', '{{ contact.first_name }} {{ contact.last_name }}'],
  ['html', `<a href="{{ contact.url | ${URL_GUARD} }}">x</a><a href="{{ contact.url | default: "https://d.example/?a=1&b=2" | ${URL_GUARD} }}">y</a>`],
  ['html', '{% if contact.city %}in {{ contact.city }}{% elsif contact.country %}in {{ contact.country | default: "x" }}{% else %}nowhere{% endif %}.'],
  ['html', '{{ contact.points | default: 0 }} / {{ contact["member id"] | default: "-" }} / {{ contact.address.city | default: "?" }}'],
  ['plain', 'A  {{- contact.first_name | default: "x" -}}  ,  {%- if contact.vip -%}  VIP  {%- endif %} B'],
  ['html', '{% if contact.address %}{% if contact.address.city %}<b>{{ contact.address.city }}</b>{% endif %}{% endif %}{{ offer.code | default: "none" }}'],
  ['html', '{{ contact.first_name.length | default: "n" }} {% if contact.first_name.length %}L{% endif %}'],
];

const PLANLESS: [engine: 'html' | 'plain', source: string][] = [
  ['html', '{% for t in contact.tags %}{{ t }}{% endfor %}'],
  ['html', '{{ contact.first_name | upcase }}'],
  ['html', '{{ contact.tags.size }}'],
  ['html', '{{ contact.tags[0] }}'],
  ['html', '{% if contact.points > 10 %}many{% endif %}'],
  ['html', '{% unless contact.vip %}x{% endunless %}'],
  ['plain', '{{ contact.first_name | default: contact.last_name }}'],
  ['plain', '{{ "literal" }}'],
  ['plain', '{% assign n = contact.first_name %}{{ n }}'],
];

/** Values a contact field may hold, the awkward ones included. */
const VALUES: unknown[] = [
  undefined, null, '', '   ', 'Zoé', '<b>&"\'</b>', 'O\'Brien & Sons', 0, 42, -1.5, true, false, [], ['a', 'b'], { x: 1 },
  'javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,x', 'https://ok.example/?a=1&b=2', 'x'.repeat(200),
];

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)];
}

/** A small seeded generator: the same recipients on every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function recipient(rand: () => number): Record<string, unknown> {
  const contact: Record<string, unknown> = {};
  for (const k of ['first_name', 'last_name', 'url', 'city', 'country', 'points', 'member id', 'vip', 'tags']) {
    const v = pick(rand, VALUES);
    if (v !== undefined) contact[k] = v;
  }
  const address = rand();
  if (address < 0.3) contact.address = { city: pick(rand, VALUES) };
  else if (address < 0.4) contact.address = pick(rand, VALUES);
  const vars: Record<string, unknown> = { contact };
  if (rand() < 0.5) vars.offer = { code: pick(rand, VALUES) };
  // as renderTemplate builds its scope: blank values are left out
  return present(vars) as Record<string, unknown>;
}

/** liquidjs's own answer: the text, or the error it throws */
function byLiquid(engine: 'html' | 'plain', tpl: ReturnType<ReturnType<typeof liquid>['html']['parse']>, scope: Record<string, unknown>): { text: string } | { error: string } {
  try {
    return { text: String(liquid()[engine].renderSync(tpl, scope)) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe('plan renderer', () => {
  test('the same text as liquidjs for 3,000 generated recipients per template, or the render goes back to liquidjs', () => {
    for (const [engine, source] of PLANNED) {
      const tpl = liquid()[engine].parse(source);
      const plan = planOf(tpl, engine);
      assert.ok(plan, `a plan for ${source}`);
      const rand = seeded(source.length);
      let fast = 0;
      for (let i = 0; i < 3_000; i++) {
        const scope = recipient(rand);
        const mine = renderPlan(plan, scope);
        const theirs = byLiquid(engine, tpl, scope);
        if (mine === undefined) continue;
        fast++;
        assert.deepEqual({ text: mine }, theirs, `${engine}: ${source}\nscope: ${JSON.stringify(scope)}`);
      }
      assert.ok(fast > 600, `${source}: the plan rendered ${fast} of 3,000 (most recipients should not need liquidjs)`);
    }
  });

  test('what the plan does not know is left to liquidjs: no plan at all', () => {
    for (const [engine, source] of PLANLESS) assert.equal(planOf(liquid()[engine].parse(source), engine), null, source);
  });

  test('a template through compile and render: same message as liquidjs, same failure wording', async () => {
    const r = await compileTemplate({
      format: 'mjml',
      subject: 'Hello {{ contact.first_name | default: "there" }}',
      body: `<mjml><mj-body><mj-section><mj-column><mj-text>
<h1>Hello {{ contact.first_name | default: "there" }}</h1>
<p>{% if contact.city %}See you in our {{ contact.city }} store{% endif %}. Points: {{ contact.points | default: 0 }}</p>
<p>Member {{ contact.member_id }}</p>
</mj-text><mj-button href="{{ unsubscribe_url }}">Unsubscribe</mj-button></mj-column></mj-section></mj-body></mjml>`,
    });
    if (!r.ok) assert.fail(r.error.detail);
    const t = r.value;
    for (const p of [t.parts.subject, t.parts.html, ...(t.parts.text ? [t.parts.text] : [])]) assert.ok(planOf(p.tpl, p.engine), `${p.field} has a plan`);
    const vars = { contact: { first_name: 'Zoé <3', city: 'Lyon & Co', member_id: 'M-1' }, unsubscribe_url: 'https://e.example/u/abc' };
    const got = renderTemplate(t, vars);
    if (!got.ok) assert.fail(got.error.detail);
    const scope = { ...(present(vars) as Record<string, unknown>), ...t.constants };
    assert.equal(got.value.html, liquid().html.renderSync(t.parts.html.tpl, scope));
    assert.match(got.value.html, /Hello Zoé &lt;3/);
    assert.match(got.value.html, /our Lyon &amp; Co store/);
    assert.match(got.value.subject, /^Hello Zoé <3$/);
    // a missing variable without a default: the plan gives up, liquidjs names the field
    const missing = renderTemplate(t, { contact: { first_name: 'A' }, unsubscribe_url: 'https://e.example/u/abc' });
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.match(missing.error.detail, /"contact\.member_id" is not set/);
    // a script URL: refused as before
    const bad = await compileTemplate({ format: 'html', subject: 'x', body: '<a href="{{ contact.site }}">site</a>' });
    if (!bad.ok) assert.fail(bad.error.detail);
    const refused = renderTemplate(bad.value, { contact: { site: 'javascript:alert(1)' } });
    assert.equal(refused.ok, false);
    if (!refused.ok) assert.match(refused.error.detail, /script or data URL/);
  });
});
