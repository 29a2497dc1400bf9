// Feedback classifier against the labelled corpus (issue 6): agreement on
// the recipient address, on hard/soft/not-a-failure (Sisimai's rule), on the
// ARF feedback type; the confusion table; messages per second.
//
//   node --import tsx bench/feedback-corpus.ts [--corpus test/fixtures/corpus] [--rounds 20] [--misses]
//
// Scoring, per expected line (one per file and recipient): the recipient
// agrees when the result names that address (an expected null: when it
// names none); hard/soft is compared on the result's recipient with that
// address, else the one at the same position. An .eml that is an mbox of
// several messages is read message by message, as `envoi feedback
// classify` does. Exported for test/feedback/parse.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parseFeedback, sisimaiReason, splitMbox, type FeedbackRecipient, type ParsedFeedback } from '../src/feedback/parse/index.ts';

// the shared corpus, copied into the repository so a clean clone has it (test/fixtures/corpus/README.md says where it comes from)
export const DEFAULT_CORPUS = fileURLToPath(new URL('../test/fixtures/corpus', import.meta.url));

interface Expected {
  file: string;
  recipient: string | null;
  reason: string;
  hard?: boolean | null;
  status?: string | null;
  status_is_sisimai_pseudo?: boolean;
  feedback_type?: string | null;
  index: number;
}

export interface Row {
  set: 'bounces' | 'arf';
  file: string;
  expected: Expected;
  got: FeedbackRecipient | null;
  recipientOk: boolean;
  hardOk: boolean | null;
  reasonOk: boolean;
  statusOk: boolean | null;
  feedbackTypeOk: boolean | null;
}

export interface Score {
  rows: Row[];
  results: Map<string, ParsedFeedback[]>;
  recipient: { ok: number; total: number };
  hard: { ok: number; total: number };
  feedbackType: { ok: number; total: number };
  reason: { ok: number; total: number };
  status: { ok: number; total: number };
  /** expected (true/false/null) × got (true/false/null/missing) */
  confusion: Record<string, Record<string, number>>;
  messages: number;
}

/** Classifies a file: each message of it, recipients together. */
export async function classifyFile(raw: Buffer): Promise<ParsedFeedback[]> {
  return Promise.all(splitMbox(raw).map((m) => parseFeedback(m)));
}

function readExpected(file: string): Expected[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Expected);
}

const label = (v: boolean | null | undefined) => (v === true ? 'hard' : v === false ? 'soft' : 'null');

export async function scoreCorpus(dir = DEFAULT_CORPUS): Promise<Score> {
  const rows: Row[] = [];
  const results = new Map<string, ParsedFeedback[]>();
  let messages = 0;
  for (const set of ['bounces', 'arf'] as const) {
    const expected = readExpected(path.join(dir, set, 'expected.jsonl'));
    const files = [...new Set(expected.map((e) => e.file))];
    for (const file of files) {
      const parsed = await classifyFile(fs.readFileSync(path.join(dir, set, file)));
      messages += parsed.length;
      results.set(`${set}/${file}`, parsed);
      const got = parsed.flatMap((p) => p.recipients);
      for (const e of expected.filter((x) => x.file === file)) {
        const byAddress = e.recipient ? got.find((g) => g.address === e.recipient) : undefined;
        const match = byAddress ?? got[e.index - 1] ?? (got.length === 1 ? got[0] : null);
        const recipientOk = e.recipient === null ? got.every((g) => g.address === null) : !!byAddress;
        const scoredStatus = set === 'bounces' && e.status && !e.status_is_sisimai_pseudo;
        rows.push({
          set, file, expected: e, got: match, recipientOk,
          hardOk: set === 'bounces' ? !!match && match.hard === e.hard : null,
          reasonOk: !!match && sisimaiReason(match.category) === e.reason,
          statusOk: scoredStatus ? match?.status === e.status : null,
          feedbackTypeOk: set === 'arf' ? !!match && match.feedbackType === (e.feedback_type ?? null) : null,
        });
      }
    }
  }
  const count = (f: (r: Row) => boolean | null) => {
    const scored = rows.filter((r) => f(r) !== null);
    return { ok: scored.filter((r) => f(r) === true).length, total: scored.length };
  };
  const confusion: Score['confusion'] = {};
  for (const r of rows.filter((x) => x.set === 'bounces')) {
    const row = (confusion[label(r.expected.hard)] ??= { hard: 0, soft: 0, null: 0, missing: 0 });
    row[r.got ? label(r.got.hard) : 'missing']++;
  }
  return {
    rows, results, messages, confusion,
    recipient: count((r) => r.recipientOk),
    hard: count((r) => r.hardOk),
    feedbackType: count((r) => r.feedbackTypeOk),
    reason: count((r) => r.reasonOk),
    status: count((r) => r.statusOk),
  };
}

const pct = (s: { ok: number; total: number }) => `${s.ok}/${s.total} = ${((100 * s.ok) / s.total).toFixed(1)} %`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { corpus: { type: 'string' }, rounds: { type: 'string', default: '20' }, misses: { type: 'boolean', default: false } } });
  const dir = values.corpus ? path.resolve(values.corpus) : DEFAULT_CORPUS;
  const score = await scoreCorpus(dir);
  console.log(`corpus ${dir}: ${score.rows.length} expected lines, ${score.messages} messages`);
  console.log(`recipient address      ${pct(score.recipient)}`);
  console.log(`hard/soft/not-failure  ${pct(score.hard)}   (bounces)`);
  console.log(`ARF feedback type      ${pct(score.feedbackType)}`);
  console.log(`reason (Sisimai name)  ${pct(score.reason)}   (informative: our categories are coarser/finer in places)`);
  console.log(`status code            ${pct(score.status)}   (labels that are not Sisimai pseudo-codes)`);
  console.log('\nexpected \\ got   hard  soft  null  missing');
  for (const e of ['hard', 'soft', 'null']) {
    const c = score.confusion[e] ?? { hard: 0, soft: 0, null: 0, missing: 0 };
    console.log(`${e.padEnd(16)} ${String(c.hard).padStart(4)}  ${String(c.soft).padStart(4)}  ${String(c.null).padStart(4)}  ${String(c.missing).padStart(7)}`);
  }
  if (values.misses) {
    console.log('\nmisses:');
    for (const r of score.rows) {
      if (r.recipientOk && r.hardOk !== false && r.feedbackTypeOk !== false && r.reasonOk) continue;
      const g = r.got;
      console.log(`  ${r.file} [${r.expected.recipient}] want ${r.expected.reason}/${label(r.expected.hard)} got ${g ? `${g.address} ${g.category}/${label(g.hard)} ${g.status ?? ''}` : 'nothing'}${r.recipientOk ? '' : ' RECIPIENT'}${r.hardOk === false ? ' HARD' : ''}${r.feedbackTypeOk === false ? ' TYPE' : ''}`);
    }
  }
  // throughput: the whole corpus, parsed again and again
  const raws = ['bounces', 'arf'].flatMap((set) => fs.readdirSync(path.join(dir, set)).filter((f) => f.endsWith('.eml')).map((f) => fs.readFileSync(path.join(dir, set, f))));
  const bytes = raws.reduce((n, r) => n + r.length, 0);
  const rounds = Number(values.rounds);
  for (const r of raws) await classifyFile(r); // warm-up
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) for (const r of raws) await classifyFile(r);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const n = rounds * raws.length;
  console.log(`\nthroughput: ${n} messages (${(bytes / 1024).toFixed(0)} KB a round) in ${secs.toFixed(2)} s = ${Math.round(n / secs)} messages/s, ${(secs * 1000 / n).toFixed(2)} ms a message, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`);
  // a bounce returning a message with a 30 MB attachment
  const b64 = Buffer.alloc(57, 7).toString('base64') + '\r\n';
  const big = Buffer.from([
    'From: MAILER-DAEMON@mx.example.net', 'Subject: Undelivered Mail Returned to Sender', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"', '', '--B', 'Content-Type: text/plain', '', 'The mail system', '',
    '--B', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.net', '', 'Final-Recipient: rfc822; jane@example.org',
    'Action: failed', 'Status: 5.2.2', 'Diagnostic-Code: smtp; 552 5.2.2 Mailbox full', '', '--B', 'Content-Type: message/rfc822', '',
    'Message-ID: <m1@shop.test>', 'From: news@shop.test', 'To: jane@example.org', 'Content-Type: multipart/mixed; boundary="R"', '',
    '--R', 'Content-Type: application/pdf', 'Content-Transfer-Encoding: base64', '', b64.repeat(Math.ceil((30 << 20) / b64.length)) + '--R--', '--B--', '',
  ].join('\r\n'));
  const tb = process.hrtime.bigint();
  const r = await parseFeedback(big);
  console.log(`a ${(big.length / 1048576).toFixed(0)} MB bounce: ${(Number(process.hrtime.bigint() - tb) / 1e6).toFixed(0)} ms, kind ${r.kind}, ${r.recipients.map((x) => `${x.address} ${x.category}`).join(', ')}; problems: ${r.problems.join('; ')}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
