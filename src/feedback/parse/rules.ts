// The diagnostic pattern file (data/patterns.json), validated once at first
// use: a bad file is a thrown error at start, like policy/replies.ts.
import { z } from 'zod';
import { regexSource } from '../../policy/validators.ts';
import { isCategory, type Category } from './categories.ts';
import data from './data/patterns.json' with { type: 'json' };

const statusPattern = z.string().regex(/^[x245]\.\d{1,3}\.\d{1,3}$/, 'an enhanced code like 5.7.26 or x.7.26');

const ruleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  example: z.string().min(1),
  source: z.string().min(1),
  match: z.strictObject({
    text: regexSource.optional(),
    status: z.array(statusPattern).min(1).optional(),
    diagnosticType: regexSource.optional(),
    code: z.array(z.number().int().min(200).max(599)).min(1).optional(),
  }).refine((m) => Object.keys(m).length > 0, 'a rule needs at least one condition'),
  category: z.string().refine(isCategory, 'not a category of categories.ts'),
  weak: z.literal(true).optional(),
});

const fileSchema = z.strictObject({ _comment: z.string().optional(), rules: z.array(ruleSchema) }).superRefine((f, ctx) => {
  const seen = new Set<string>();
  for (const r of f.rules) {
    if (seen.has(r.id)) ctx.addIssue({ code: 'custom', message: `duplicate rule id ${r.id}` });
    seen.add(r.id);
    if (r.weak && r.category !== 'unknown-user') ctx.addIssue({ code: 'custom', message: `rule ${r.id}: only unknown-user rules can be weak` });
  }
});

export type DiagnosticRule = Omit<z.infer<typeof ruleSchema>, 'category'> & { category: Category };

export interface CompiledRule extends DiagnosticRule {
  text?: RegExp;
  type?: RegExp;
}

export function parseDiagnosticRules(raw: unknown): DiagnosticRule[] {
  return fileSchema.parse(raw).rules as DiagnosticRule[];
}

let compiled: CompiledRule[] | undefined;

/** The rules in file order, compiled. */
export function diagnosticRules(): readonly CompiledRule[] {
  compiled ??= parseDiagnosticRules(data).map((r) => ({
    ...r,
    text: r.match.text ? new RegExp(r.match.text, 'i') : undefined,
    type: r.match.diagnosticType ? new RegExp(r.match.diagnosticType, 'i') : undefined,
  }));
  return compiled;
}
