// MJML → HTML, once per template. Validation is strict: an unknown element or
// an illegal attribute is the author's error, reported with the source line,
// rather than markup MJML silently leaves out.
import mjml2html from 'mjml';
import { fail, ok, type Result } from '../../errors.ts';
import { sourceLine, type Protected } from './placeholders.ts';

interface MjmlError {
  line?: number;
  message?: string;
  tagName?: string;
}

/** Renders the protected MJML source (Liquid replaced by tokens). */
export async function renderMjml(p: Protected): Promise<Result<string>> {
  const include = /<mj-include\b/i.exec(p.text);
  if (include) {
    const line = sourceLine(p, p.text.slice(0, include.index).split('\n').length);
    return fail('request.invalid', `body line ${line}: mj-include is not available: a template cannot read files`, 'body');
  }
  try {
    const out = await mjml2html(p.text, {
      validationLevel: 'strict',
      // files are never read: no includes, no .mjmlconfig from the working directory
      ignoreIncludes: true,
      useMjmlConfigOptions: false,
      minify: false,
      beautify: false,
    });
    return ok(out.html);
  } catch (err) {
    const errors = (err as { errors?: MjmlError[] }).errors;
    if (!Array.isArray(errors) || errors.length === 0) {
      return fail('request.invalid', `body: MJML could not read the template (${(err as Error).message}); it must be one <mjml> document`, 'body');
    }
    const details = errors.slice(0, 5).map((e) => {
      const at = e.line === undefined ? 'body' : `body line ${sourceLine(p, e.line)}`;
      let message = (e.message ?? 'invalid').trim();
      if (p.pattern.test(message)) {
        message = message.replace(p.pattern, (_m, i: string) => p.pieces[Number(i)].text) +
          ' (Liquid cannot be used in attributes MJML checks, such as colours and sizes)';
      }
      p.pattern.lastIndex = 0;
      return `${at}: ${message}${e.tagName ? ` (${e.tagName})` : ''}`;
    });
    const more = errors.length > 5 ? `; and ${errors.length - 5} more` : '';
    return fail('request.invalid', details.join('; ') + more, 'body');
  }
}
