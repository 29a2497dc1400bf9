// The shape of the body: a text part, enough text next to the images, an HTML
// part Gmail does not clip, and alt text on images. No policy rule names
// these; they are what content filters score and what readers see when
// images are off, hence warnings with no requirement ID.
import { clip } from './text.ts';
import type { Finding } from './types.ts';
import type { HtmlImage } from './html.ts';
import type { MessageView } from './view.ts';

/** Gmail cuts the HTML after about 102 KB and hides the rest behind "[Message clipped]". */
export const GMAIL_CLIP_BYTES = 100 * 1024;
/** fewer letters of visible text than this next to images: the images carry the message */
const IMAGE_ONLY_LETTERS = 100;

export function checkStructure(view: MessageView): Finding[] {
  const f = (id: string, where: 'html' | 'text', message: string, fix: string, excerpt?: string): Finding =>
    ({ id, severity: 'warn', where, requirements: [], ...(excerpt ? { excerpt } : {}), message, fix });
  const hasHtml = Boolean(view.input.html?.trim());
  const hasText = Boolean(view.text.trim());
  const images = view.images.filter((i) => !isPixel(i));
  const letters = (view.htmlText.match(/\p{L}/gu) ?? []).length;
  if (!hasText && (!hasHtml || (letters === 0 && images.length === 0))) {
    return [f('structure.empty', hasHtml ? 'html' : 'text', 'The mail has no content: no text and no images',
      'Write the body of the mail.')];
  }
  const out: Finding[] = [];
  if (hasHtml && !hasText) {
    out.push(f('structure.no-text-part', 'text', 'The mail has an HTML part but no text part: filters score HTML-only mail, and some readers only show text',
      'Add a text version of the content (the preview can generate one from the HTML).'));
  }
  if (hasHtml && images.length > 0 && letters < IMAGE_ONLY_LETTERS) {
    out.push(f('structure.image-only', 'html', `The HTML is almost only images (${images.length} image${images.length > 1 ? 's' : ''}, ${letters} letters of text): with images off the reader sees nothing, and filters treat it as hiding its text`,
      'Put the message in text, and keep images as illustrations.', clip(images[0].src)));
  }
  if (view.htmlBytes > GMAIL_CLIP_BYTES) {
    out.push(f('structure.html-too-large', 'html', `The HTML is ${Math.ceil(view.htmlBytes / 1024)} KB: Gmail clips mail over about 100 KB and hides the rest, unsubscribe link included`,
      'Shorten the content, remove unused CSS and inline styles, or link to a web version.'));
  }
  const noAlt = images.filter((i) => i.alt === undefined);
  if (noAlt.length > 0) {
    out.push(f('structure.img-no-alt', 'html', `${noAlt.length} image${noAlt.length > 1 ? 's have' : ' has'} no alt attribute: with images off, or with a screen reader, nothing says what they show`,
      'Add alt="…" describing each image, or alt="" for purely decorative ones.', clip(noAlt[0].src)));
  }
  return out;
}

// Tracking pixels and spacers are not content.
function isPixel(i: HtmlImage): boolean {
  const tiny = (v?: string) => v !== undefined && /^\s*[0-2](?:px)?\s*$/i.test(v);
  return !i.src || (tiny(i.width) && tiny(i.height));
}
