// The text part generated from the HTML. Converting costs ~1.4 ms for 12 KB of
// HTML, more than the rest of a message together, so it is done once per
// template on the HTML with its Liquid still in token form, and the result is
// itself a Liquid template rendered per recipient (outputs raw: the text part
// is not HTML). Only when the conversion loses or reorders a Liquid tag does a
// template fall back to converting each personalised HTML.
import { compile as compileConverter } from 'html-to-text';

let converter: ((html: string) => string) | undefined;

/**
 * html-to-text with mail-reader settings: links as "text [url]", no images,
 * no hidden preheader. Paragraphs stay one line each: wrapping at compile
 * time would wrap around the Liquid tokens, not the values, and leave
 * ragged lines; mail clients wrap a long line themselves.
 */
export function htmlToText(html: string): string {
  converter ??= compileConverter({
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      // an image has nothing to say in text; its alt is usually the logo's name
      { selector: 'img', format: 'skip' },
      // the preheader (mj-preview) and other hidden blocks are not for readers of the text part
      { selector: '[style*="display:none"]', format: 'skip' },
      { selector: '[style*="display: none"]', format: 'skip' },
      { selector: '[hidden]', format: 'skip' },
      // upper-casing would change static text but not personalised values
      ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
      // layout tables (all of MJML's): cells are blocks, not a grid of columns
      { selector: 'table', format: 'block' },
      { selector: 'tr', format: 'block' },
      { selector: 'td', format: 'block' },
      { selector: 'th', format: 'block' },
    ],
  });
  return converter(withoutImageLinks(html)).replace(/\n{3,}/g, '\n\n').trim() + '\n';
}

/**
 * A link around an image only (a logo, a hero, a social icon) has no text to
 * show once images are skipped, and html-to-text would print its bare URL.
 */
function withoutImageLinks(html: string): string {
  return html.replace(/<a\b[^>]*>([\s\S]*?)<\/a\s*>/gi, (link, inner: string) =>
    inner.replace(/<[^>]*>|&nbsp;|\s/gi, '') === '' ? '' : link);
}
