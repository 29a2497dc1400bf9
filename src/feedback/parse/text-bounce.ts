// Bounces written for people: qmail's "<addr>:" paragraphs, Exim's indented
// address lines, Sendmail's transcripts, Domino's "was not delivered to:"…
// One general reading instead of a parser per MTA: cut the text at the copy
// of the returned message, find the recipient lines of data/layout.json, and
// give each the lines that follow it as its diagnostic. Pure.
import { normaliseAddress } from './address.ts';
import type { SmtpCommand } from './classify.ts';
import { layout } from './layout.ts';

export interface TextRecipient {
  address: string;
  /** the bounce said something about this recipient of its own (else `diagnostic` is the whole section) */
  own: boolean;
  /** what the bounce says about this recipient; the whole failure section when it says nothing of its own */
  diagnostic: string;
  command: SmtpCommand | null;
}

export interface TextBounce {
  recipients: TextRecipient[];
  /** the text above the returned message */
  section: string;
  /** the copy of the returned message (headers first), or null */
  returned: string | null;
}

/** Splits a bounce text at the first marker of a returned-message copy. */
export function splitReturned(text: string): { section: string; returned: string | null } {
  let best: { start: number; end: number } | undefined;
  for (const re of layout().returnedMarkers) {
    const m = re.exec(text);
    if (m && (!best || m.index < best.start)) best = { start: m.index, end: m.index + m[0].length };
  }
  if (!best) return { section: text, returned: null };
  return { section: text.slice(0, best.start), returned: text.slice(best.end).replace(/^[ \t]*\r?\n/, '') };
}

const COMMANDS: [RegExp, SmtpCommand][] = [
  [/in reply to RCPT TO command|after RCPT\b|following RCPT command|did not like our RCPT|does not like recipient|>>> RCPT\b/i, 'RCPT'],
  [/in reply to MAIL FROM command|after MAIL FROM|>>> MAIL FROM|sender was rejected/i, 'MAIL'],
  [/in reply to (?:end of )?DATA command|after (?:end of )?DATA\b|>>> DATA\b|failed after I sent the message|for TEXT command/i, 'DATA'],
  [/in reply to (?:HELO|EHLO) command|after (?:HELO|EHLO)\b/i, 'HELO'],
  [/\bwhile connecting\b|greeting from|could not connect/i, 'CONN'],
];

/** The SMTP command a reply answered, as bounces say it ("in reply to RCPT
 * TO command", "after end of data", ">>> DATA"): the earliest mention. */
export function commandIn(text: string): SmtpCommand | null {
  text = text.replace(/\s+/g, ' '); // "(in reply to\n    RCPT TO command)"
  let best: { at: number; cmd: SmtpCommand } | undefined;
  for (const [re, cmd] of COMMANDS) {
    const m = re.exec(text);
    if (m && (!best || m.index < best.at)) best = { at: m.index, cmd };
  }
  return best?.cmd ?? null;
}

/** Says nothing of its own: only addresses, brackets and punctuation. */
function trivial(text: string): boolean {
  return text.replace(/\S+@\S+/g, '').replace(/[^A-Za-z\u00C0-\uFFFF]/g, '').length < 3;
}

/** The recipients a text bounce names, each with its diagnostic. */
export function scanTextBounce(text: string): TextBounce {
  const { section, returned } = splitReturned(text);
  const hits: { at: number; end: number; address: string; line: boolean }[] = [];
  for (const r of layout().recipientLines) {
    r.re.lastIndex = 0;
    for (const m of section.matchAll(r.re)) {
      const address = normaliseAddress(m.groups?.addr);
      if (address) hits.push({ at: m.index!, end: m.index! + m[0].length, address, line: r.line });
    }
  }
  hits.sort((a, b) => a.at - b.at);
  // where paragraphs end, found once: a recipient's lines stop there
  const breaks = [...section.matchAll(/\n[ \t]*\r?\n/g)].map((m) => m.index!);
  const breakAfter = (at: number) => {
    let lo = 0;
    let hi = breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (breaks[mid] < at) lo = mid + 1;
      else hi = mid;
    }
    return lo < breaks.length ? breaks[lo] : section.length;
  };
  const blocks = new Map<string, string[]>();
  hits.forEach((h, i) => {
    if (i > 0 && hits[i - 1].at === h.at) return; // two patterns, one line
    let j = i + 1;
    while (j < hits.length && hits[j].at < h.end) j++;
    const next = j < hits.length ? hits[j].at : section.length;
    const eol = section.indexOf('\n', h.end);
    const end = Math.min(next, h.line ? (eol < 0 ? section.length : eol) : breakAfter(h.end));
    const list = blocks.get(h.address) ?? [];
    list.push(section.slice(h.end, Math.max(h.end, end)).trim());
    blocks.set(h.address, list);
  });
  const recipients: TextRecipient[] = [];
  for (const [address, parts] of blocks) {
    const own = parts.filter((p) => !trivial(p)).join('\n');
    const diagnostic = own || section.trim();
    recipients.push({ address, own: own !== '', diagnostic, command: commandIn(diagnostic) });
  }
  return { recipients, section, returned };
}

/** A text bounce by its sender, its subject or its words. */
export function looksLikeBounce(fromAddress: string | null, fromHeader: string, subject: string, text: string): boolean {
  const l = layout();
  if (fromAddress && l.bounceSenders.some((re) => re.test(fromAddress))) return true;
  if (/mail delivery (?:system|subsystem)|mailer-daemon/i.test(fromHeader)) return true;
  if (l.bounceSubjects.some((re) => re.test(subject))) return true;
  return l.bounceText.some((re) => re.test(text.slice(0, 20_000)));
}
