// An address header value with its display name: ASCII names quoted when
// they hold specials, other names as RFC 2047 encoded-words; the address
// itself is never encoded. Values come from validated input (no CR/LF).
import { encodeWord, isPlainText, quoteString } from 'nodemailer/lib/mime-funcs';

export function addressHeader(email: string, name?: string | null): string {
  if (!name) return `<${email}>`;
  const display = isPlainText(name) ? (/^[\w !#$%&'*+/=?^`{|}~-]*$/.test(name) ? name : quoteString(name)) : encodeWord(name, 'Q', 52);
  return `${display} <${email}>`;
}
