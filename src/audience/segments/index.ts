// Segments (issue 3): a small filter language over contact fields, lists,
// subscription dates and engagement, turned into a condition on the
// mailable-audience query. Users never write SQL; see parse.ts for the
// grammar and compile.ts for what each comparison means.
import { fail, ok, type Result } from '../../errors.ts';
import type { SegmentFilter } from '../mailable.ts';
import { compileSegment, type CompileContext } from './compile.ts';
import { parseSegment } from './parse.ts';

export { parseSegment, LIMITS, type SegmentNode, type SegmentError, type Field, type Op, type Value } from './parse.ts';
export { compileSegment, type CompileContext } from './compile.ts';
export type { SegmentFilter } from '../mailable.ts';

/**
 * Parses and compiles a segment for `mailable.count` / `mailable.stream`.
 * A mistake is a `request.invalid` failure whose detail names the column.
 */
export function segmentFilter(text: string, ctx: CompileContext): Result<SegmentFilter> {
  const ast = parseSegment(text);
  const filter = ast.ok ? compileSegment(ast.value, ctx) : ast;
  return filter.ok ? ok(filter.value) : fail('request.invalid', `segment: ${filter.error.message}`, 'segment');
}
