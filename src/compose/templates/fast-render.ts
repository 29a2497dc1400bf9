// The Liquid most campaign templates hold, rendered without liquidjs's
// interpreter: text, outputs of a variable (`{{ contact.first_name | default:
// "there" }}`, the URL guard, the HTML escaping) and `{% if variable %}`
// blocks. liquidjs renders through generators and per-render contexts: 7 %
// of a campaign worker's CPU for a newsletter (bench/campaign.ts profile),
// for what is a concatenation. A part holding anything else (other tags,
// filters, operators, indexes, size/first/last) has no plan and liquidjs
// renders it; a value the plan is not sure about (undefined without a
// default, an object, a URL the guard refuses) gives up on that render and
// liquidjs renders it again, so failures keep liquidjs's own messages.
// test/compose/fast-render.test.ts renders the same templates and data both
// ways and requires the same text.
//
// This reads liquidjs's parsed templates (its exported classes and token
// kinds, version 10): a change there makes parts planless, not wrong —
// every shape is checked before it is trusted.
import { IfTag, Output, TokenKind, type Template } from 'liquidjs';
import { unsafeUrl } from './sanitize.ts';
import { URL_GUARD } from './liquid.ts';

type Path = readonly string[];
type Filter = { kind: 'default'; value: string | number } | { kind: 'url' } | { kind: 'escape' };
type Step =
  | string
  | { kind: 'out'; path: Path; filters: Filter[] }
  | { kind: 'if'; branches: { path: Path; then: Step[] }[]; otherwise: Step[] };

/** Names liquidjs reads specially (the size of a string or array, an array's ends): left to it. */
const SPECIAL = new Set(['size', 'first', 'last']);
/** longer values are left to liquidjs, which counts them against the render's memory limit */
const MAX_VALUE = 100_000;
/** the render gave up: liquidjs renders the part */
const GIVE_UP = Symbol('give up');

/** The steps of a parsed part, or null when it holds something only liquidjs renders. */
export function planOf(tpl: Template[], engine: 'html' | 'plain'): Step[] | null {
  try {
    return steps(tpl, engine);
  } catch {
    return null; // a shape not as expected: no plan
  }
}

function steps(tpl: Template[], engine: 'html' | 'plain'): Step[] | null {
  const out: Step[] = [];
  for (const t of tpl) {
    const token = (t as { token?: { kind?: number } }).token;
    if (token?.kind === TokenKind.HTML && typeof (t as { str?: unknown }).str === 'string') {
      out.push((t as unknown as { str: string }).str);
    } else if (t instanceof Output) {
      const step = output((t as unknown as { value: ValueShape }).value, engine);
      if (!step) return null;
      out.push(step);
    } else if (t instanceof IfTag && (t as { name?: string }).name === 'if') {
      const tag = t as unknown as { branches: { value: ValueShape; templates: Template[] }[]; elseTemplates: Template[] };
      const branches: { path: Path; then: Step[] }[] = [];
      for (const b of tag.branches) {
        const path = b.value.filters.length === 0 ? variable(b.value.initial) : null;
        const then = path && steps(b.templates, engine);
        if (!path || !then) return null;
        branches.push({ path, then });
      }
      const otherwise = steps(tag.elseTemplates ?? [], engine);
      if (!otherwise || branches.length === 0) return null;
      out.push({ kind: 'if', branches, otherwise });
    } else {
      return null;
    }
  }
  return out;
}

interface ValueShape {
  initial: { postfix: TokenShape[] };
  filters: { name: unknown; args: unknown[]; raw: boolean }[];
}
interface TokenShape {
  kind: number;
  content?: unknown;
  props?: TokenShape[];
}

function output(value: ValueShape, engine: 'html' | 'plain'): Step | null {
  const path = variable(value.initial);
  if (!path) return null;
  const filters: Filter[] = [];
  value.filters.forEach((f, i) => {
    const last = i === value.filters.length - 1;
    if (f.name === 'default' && f.args.length === 1) {
      const a = f.args[0] as TokenShape;
      if (a.kind === TokenKind.Quoted && typeof a.content === 'string') filters.push({ kind: 'default', value: a.content });
      else if (a.kind === TokenKind.Number && typeof a.content === 'number') filters.push({ kind: 'default', value: a.content });
      else throw new Error('default with another argument');
    } else if (f.name === URL_GUARD && f.args.length === 0 && engine === 'html') {
      filters.push({ kind: 'url' });
    } else if (last && engine === 'html' && f.name === '[object Function]') {
      // the engine's outputEscape, added by liquidjs after the author's filters
      filters.push({ kind: 'escape' });
    } else {
      throw new Error(`filter ${String(f.name)}`);
    }
  });
  // the HTML engine escapes every output: a plan without it would print markup
  if (engine === 'html' && filters[filters.length - 1]?.kind !== 'escape') return null;
  if (engine === 'plain' && filters.some((f) => f.kind === 'escape')) return null;
  return { kind: 'out', path, filters };
}

/** `a.b["c d"]`: a variable and names, nothing computed. */
function variable(expr: { postfix: TokenShape[] }): Path | null {
  if (expr.postfix.length !== 1) return null;
  const p = expr.postfix[0];
  if (p.kind !== TokenKind.PropertyAccess || !p.props?.length) return null;
  const path: string[] = [];
  for (const [i, prop] of p.props.entries()) {
    const ok = (prop.kind === TokenKind.Word || (i > 0 && prop.kind === TokenKind.Quoted)) && typeof prop.content === 'string';
    if (!ok || SPECIAL.has(prop.content as string)) return null;
    path.push(prop.content as string);
  }
  return path;
}

/** The part rendered with this scope, or undefined: liquidjs must render it. */
export function renderPlan(plan: Step[], scope: Record<string, unknown>): string | undefined {
  const out = run(plan, scope);
  return out === GIVE_UP ? undefined : out;
}

function run(plan: Step[], scope: Record<string, unknown>): string | typeof GIVE_UP {
  let s = '';
  for (const step of plan) {
    if (typeof step === 'string') s += step;
    else if (step.kind === 'out') {
      const v = print(step, scope);
      if (v === GIVE_UP) return GIVE_UP;
      s += v;
    } else {
      let taken = step.otherwise;
      for (const b of step.branches) {
        const v = read(scope, b.path);
        if (v === GIVE_UP) return GIVE_UP;
        // Liquid's truth: all but false and nil (lenientIf: a missing variable is false)
        if (v !== undefined && v !== null && v !== false) {
          taken = b.then;
          break;
        }
      }
      const inner = run(taken, scope);
      if (inner === GIVE_UP) return GIVE_UP;
      s += inner;
    }
  }
  return s;
}

function print(step: { path: Path; filters: Filter[] }, scope: Record<string, unknown>): string | typeof GIVE_UP {
  let v: unknown = read(scope, step.path);
  if (v === GIVE_UP) return GIVE_UP;
  let defaulted = false;
  for (const f of step.filters) {
    if (f.kind === 'default') {
      // liquidjs: an empty string keeps the default; false, nil and undefined take it
      if (v === undefined || v === null || v === false || v === '') {
        v = f.value;
        defaulted = true;
      }
    } else if (f.kind === 'url') {
      const text = scalar(v);
      if (text === GIVE_UP || unsafeUrl(text)) return GIVE_UP;
      v = text;
    } else {
      const text = scalar(v);
      if (text === GIVE_UP) return GIVE_UP;
      v = text.replace(/[&<>"']/g, (m) => ESCAPES[m]);
    }
  }
  if (v === undefined && !defaulted) return GIVE_UP; // strictVariables: liquidjs says which variable
  return scalar(v);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/** What liquidjs prints for a string, number or boolean; anything else is left to it. */
function scalar(v: unknown): string | typeof GIVE_UP {
  if (typeof v === 'string') return v.length > MAX_VALUE ? GIVE_UP : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return GIVE_UP;
}

/**
 * Own properties of plain objects (ownPropertyOnly); undefined when the path
 * is not there or passes through nil. Through anything else (a string's
 * length, an array, a Date) liquidjs has rules of its own: left to it.
 */
function read(scope: Record<string, unknown>, path: Path): unknown {
  let v: unknown = scope;
  for (const name of path) {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) return GIVE_UP;
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return GIVE_UP;
    if (!Object.prototype.hasOwnProperty.call(v, name)) return undefined;
    v = (v as Record<string, unknown>)[name];
  }
  return v;
}
