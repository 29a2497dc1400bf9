// The text-bounce layout file (data/layout.json), validated and compiled
// once at first use.
import { z } from 'zod';
import { regexSource } from '../../policy/validators.ts';
import { ADDRESS_SOURCE } from './address.ts';
import data from './data/layout.json' with { type: 'json' };

const entry = z.strictObject({ example: z.string().min(1), source: z.string().min(1), pattern: regexSource });
const recipientLine = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  example: z.string().min(1),
  source: z.string().min(1),
  pattern: z.string().refine((p) => p.includes('{addr}'), 'a recipient pattern captures {addr}'),
  line: z.literal(true).optional(),
});
const fileSchema = z.strictObject({
  _comment: z.string().optional(),
  recipientLines: z.array(recipientLine).min(1),
  returnedMarkers: z.array(entry).min(1),
  bounceSenders: z.array(entry),
  bounceSubjects: z.array(entry),
  bounceText: z.array(entry),
  autoReplySubjects: z.array(entry),
});

export type LayoutFile = z.infer<typeof fileSchema>;

export interface Layout {
  recipientLines: { id: string; re: RegExp; line: boolean }[];
  returnedMarkers: RegExp[];
  bounceSenders: RegExp[];
  bounceSubjects: RegExp[];
  bounceText: RegExp[];
  autoReplySubjects: RegExp[];
}

export function parseLayout(raw: unknown): LayoutFile {
  return fileSchema.parse(raw);
}

/** A recipient pattern with its {addr} turned into the named group "addr". */
export function recipientRegExp(pattern: string, flags = 'gim'): RegExp {
  return new RegExp(pattern.replace('{addr}', `(?<addr>${ADDRESS_SOURCE})`), flags);
}

let compiled: Layout | undefined;

export function layout(): Layout {
  if (compiled) return compiled;
  const f = parseLayout(data);
  const re = (e: { pattern: string }) => new RegExp(e.pattern, 'im');
  compiled = {
    recipientLines: f.recipientLines.map((r) => ({ id: r.id, re: recipientRegExp(r.pattern), line: r.line === true })),
    returnedMarkers: f.returnedMarkers.map(re),
    bounceSenders: f.bounceSenders.map(re),
    bounceSubjects: f.bounceSubjects.map(re),
    bounceText: f.bounceText.map(re),
    autoReplySubjects: f.autoReplySubjects.map(re),
  };
  return compiled;
}
