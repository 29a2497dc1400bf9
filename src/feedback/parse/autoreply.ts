// Auto-replies (RFC 3834): "Auto-Submitted: auto-replied", the older
// X-Autoreply/X-Autorespond and "Precedence: auto_reply" marks, and the
// subjects vacation programs use when they set no header at all. Only asked
// once the message is known not to be a bounce: Postfix and Exim mark their
// bounces auto-replied too.
import { layout } from './layout.ts';

export function isAutoReply(headers: Record<string, string>, subject: string): boolean {
  const auto = headers['auto-submitted']?.trim().toLowerCase() ?? '';
  if (auto.startsWith('auto-replied')) return true;
  for (const name of ['x-autoreply', 'x-autorespond', 'x-autoresponder', 'x-autoreply-from']) {
    const v = headers[name];
    if (v !== undefined && !/^(?:no|false|0)$/i.test(v.trim())) return true;
  }
  if (/^auto_?reply$/i.test(headers.precedence?.trim() ?? '')) return true;
  return layout().autoReplySubjects.some((re) => re.test(subject.trim()));
}
