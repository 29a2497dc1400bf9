// Templates: MJML or HTML with Liquid personalisation. compileTemplate does
// the per-template work once (MJML, sanitising, the text part); renderTemplate
// personalises for one recipient. The rules for authors are in compile.ts.
export { compileTemplate, DEFAULT_MAX_TEMPLATE_BYTES, type CompileOptions, type CompiledTemplate, type TemplateSource } from './compile.ts';
export { renderTemplate, type RenderedTemplate } from './render.ts';
export type { NoticeCode, TemplateNotice } from './sanitize.ts';
