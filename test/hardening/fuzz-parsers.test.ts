// Property-based tests of the parsers hostile input reaches first: inbound
// feedback (DSN/ARF, from any MTA on the internet), submitted raw messages,
// CSV imports and the segment language. Properties: never throws, never
// hangs (a time bound per case), round-trips where one exists, and user
// values reach SQL only as bound parameters.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { parse as parseCsv } from 'csv-parse/sync';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import { parseFeedback } from '../../src/feedback/parse/index.ts';
import { parseRaw, rawFrom, rewriteHeaders } from '../../src/compose/raw.ts';
import { parseAddress } from '../../src/compose/address.ts';
import { csvCell, csvLine } from '../../src/audience/import/export.ts';
import { checkRow, resolveColumns, type RowContext } from '../../src/audience/import/rows.ts';
import { decode1252, readRecords } from '../../src/audience/import/read.ts';
import { parseSegment, compileSegment, LIMITS } from '../../src/audience/segments/index.ts';
import { DEFAULT_CORPUS } from '../../bench/feedback-corpus.ts';
import { fuzz, hostileString, mutate, mutation, within } from './fuzz.ts';

const KINDS = new Set(['bounce', 'delivery-report', 'complaint', 'autoreply', 'unsubscribe', 'unknown']);

function corpus(): Buffer[] {
  const files = ['bounces', 'arf'].flatMap((d) => {
    const dir = path.join(DEFAULT_CORPUS, d);
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).map((f) => path.join(dir, f)) : [];
  });
  return files.map((f) => fs.readFileSync(f));
}

async function parsesWithin(raw: Buffer, ms = 3000) {
  const r = await within(ms, `parseFeedback of ${raw.length} bytes`, parseFeedback(raw));
  assert.ok(KINDS.has(r.kind), `kind ${r.kind}`);
  assert.ok(Array.isArray(r.recipients) && Array.isArray(r.problems));
  return r;
}

describe('the feedback parser (DSN, ARF, auto-replies) on hostile input', () => {
  const messages = corpus();

  test('the corpus is there', () => {
    assert.ok(messages.length >= 50, `expected the labelled corpus in ${DEFAULT_CORPUS}`);
  });

  test('random bytes: never throws, never hangs', async (t) => {
    await fuzz(t, 'parseFeedback on random bytes', 300, fc.asyncProperty(
      fc.oneof(fc.uint8Array({ maxLength: 4096 }), fc.string({ maxLength: 2000 }).map((s) => new TextEncoder().encode(s))),
      async (bytes) => { await parsesWithin(Buffer.from(bytes)); },
    ));
  });

  test('real bounces and complaints, damaged: never throws, never hangs', async (t) => {
    await fuzz(t, 'parseFeedback on mutated corpus messages', 400, fc.asyncProperty(
      fc.nat({ max: messages.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 8 }),
      async (i, ops) => { await parsesWithin(mutate(messages[i], ops)); },
    ));
  });

  test('built to hurt: deep nesting, many parts, many headers, huge lines, broken encodings', async (t) => {
    const nested = (depth: number) => {
      let body = 'Content-Type: text/plain\r\n\r\nleaf\r\n';
      for (let i = 0; i < depth; i++) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
      return Buffer.from(`From: x@y.example\r\nSubject: deep\r\n${body}`);
    };
    const rfc822 = (depth: number) => {
      let m = 'From: a@b.example\r\nSubject: inner\r\n\r\nbody\r\n';
      for (let i = 0; i < depth; i++) m = `From: a@b.example\r\nContent-Type: message/rfc822\r\n\r\n${m}`;
      return Buffer.from(m);
    };
    const parts = (n: number) => Buffer.from('From: MAILER-DAEMON@x.example\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="z"\r\n\r\n' +
      Array.from({ length: n }, () => '--z\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.1.1\r\n').join('') + '--z--\r\n');
    const cases: [string, Buffer][] = [
      ['200 nested multiparts', nested(200)],
      ['100 nested message/rfc822', rfc822(100)],
      ['3,000 delivery-status parts', parts(3000)],
      ['20,000 header lines', Buffer.from(`${'X-H: v\r\n'.repeat(20_000)}From: a@b.example\r\n\r\nbody`)],
      ['a 1 MB header line', Buffer.from(`Subject: ${'a'.repeat(1 << 20)}\r\n\r\nbody`)],
      ['a 1 MB folded header', Buffer.from(`Subject: ${'a\r\n '.repeat(250_000)}\r\n\r\nbody`)],
      ['2,000 encoded-words', Buffer.from(`Subject: ${'=?utf-8?B?////?= '.repeat(2000)}\r\n\r\nbody`)],
      ['base64 garbage in a report', Buffer.from('Content-Type: multipart/report; boundary=q\r\n\r\n--q\r\nContent-Type: message/feedback-report\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!####\r\n--q--')],
      ['NUL bytes only', Buffer.alloc(100_000)],
      ['bare CRs', Buffer.from('From: a@b.example\rSubject: x\r\r' + 'line\r'.repeat(10_000))],
      ['an empty boundary', Buffer.from('Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n--\r\n----\r\n')],
    ];
    for (const [name, raw] of cases) {
      const started = Date.now();
      await parsesWithin(raw, 10_000);
      t.diagnostic(`${name}: ${Date.now() - started} ms`);
    }
  });
});

describe('submitted raw messages (SMTP submission)', () => {
  const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,30}$/);
  const headerValue = fc.string({ maxLength: 200 }).map((s) => s.replace(/[\r\n]/g, ' ').trim());
  const headers = fc.array(fc.tuple(headerName, headerValue), { minLength: 1, maxLength: 20 });

  test('random bytes and damaged messages: never throws', async (t) => {
    const base = Buffer.from('From: "A" <a@shop.example>\r\nTo: b@c.example\r\nBcc: hidden@c.example\r\nSubject: hi\r\n\r\nbody\r\n');
    await fuzz(t, 'parseRaw/rawFrom/rewriteHeaders on random and damaged input', 1000, fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)), fc.array(mutation, { maxLength: 6 }).map((ops) => mutate(base, ops))),
      (raw) => {
        const p = parseRaw(raw);
        if (!p.ok) return;
        rawFrom(p.value);
        // whatever came in, Bcc never travels
        const out = rewriteHeaders(p.value, ['bcc'], { 'Message-ID': '<x@shop.example>' });
        const again = parseRaw(out);
        assert.ok(again.ok, 'a rewritten message still parses');
        assert.ok(!again.value.headers.some((h) => h.name.toLowerCase() === 'bcc'), 'no Bcc header after the rewrite');
      },
    ));
  });

  test('round trip: the header block parses back to the headers written, and a rewrite keeps the rest', async (t) => {
    await fuzz(t, 'parseRaw round trip', 500, fc.property(headers, fc.string({ maxLength: 300 }), (hs, body) => {
      const text = hs.map(([n, v]) => `${n}: ${v}`).join('\r\n') + '\r\n\r\n' + body.replace(/\r?\n|\r/g, '\r\n');
      const p = parseRaw(Buffer.from(text, 'latin1'));
      assert.ok(p.ok, p.ok ? '' : p.error.detail);
      assert.deepEqual(p.value.headers.map((h) => [h.name, h.value]), hs.map(([n, v]) => [n, v.trim()]));
      const out = rewriteHeaders(p.value, [], { 'X-Envoi': 'yes' });
      const again = parseRaw(out);
      assert.ok(again.ok);
      assert.deepEqual(again.value.headers.slice(1).map((h) => [h.name, h.value]), p.value.headers.map((h) => [h.name, h.value]));
      assert.deepEqual(again.value.message.subarray(again.value.bodyOffset), p.value.message.subarray(p.value.bodyOffset));
    }));
  });
});

describe('CSV import', () => {
  test('export cells round-trip through the CSV parser the importer uses, formulas neutralised', async (t) => {
    await fuzz(t, 'csvLine → csv-parse round trip', 1000, fc.property(fc.array(fc.string({ maxLength: 40 }), { minLength: 2, maxLength: 8 }), (cells) => {
      const [parsed] = parseCsv(csvLine(cells), { bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: false }) as string[][];
      assert.deepEqual(parsed, cells.map((c) => (/^[=+\-@\t\r]/.test(c) ? `'${c}` : c)));
      for (const c of cells) assert.doesNotMatch(csvCell(c), /^[=+\-@\t\r]/);
    }));
  });

  test('rows: any header, mapping and cells are refused or accepted, never thrown', async (t) => {
    const outcomes = { blank: 0, refused: 0, candidate: 0 };
    const cell = fc.oneof(hostileString(60), fc.emailAddress(), fc.constant(''));
    const REQUIRED = ['email', 'first_name', 'source', 'collected_at', 'method'];
    // mostly valid values, so rows get as far as the provenance checks and past them
    const mostly = (valid: fc.Arbitrary<string>) => fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: cell, weight: 1 });
    await fuzz(t, 'resolveColumns/checkRow on random rows', 1000, fc.property(
      fc.shuffledSubarray(REQUIRED, { minLength: 4 }), fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
      fc.array(fc.record({
        email: mostly(fc.emailAddress()), first_name: cell, source: mostly(fc.constantFrom('form', 'import', 'customer')),
        collected_at: mostly(fc.constantFrom('2026-05-01T00:00:00Z', '2026-05-01', '2031-01-01')), method: mostly(fc.constantFrom('single', 'double', 'none')),
        other: cell, ragged: fc.integer({ min: -2, max: 2 }),
      }), { minLength: 1, maxLength: 5 }),
      fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 2 }),
      (known, extra, rows, extraFields) => {
        const header = [...known, ...extra];
        const cols = resolveColumns(header, {
          email: 'email', fields: { first_name: 'first_name', ...extraFields },
          provenance: { source: 'source', collected_at: 'collected_at', method: 'method' },
        });
        if (!cols.ok) return;
        const ctx: RowContext = { columns: cols.value, fileProvenance: { consent_text: 'News from Shop' }, fixedProvenance: null, now: Date.parse('2026-06-01T00:00:00Z') };
        for (const [i, row] of rows.entries()) {
          // cells under their columns, a row now and then shorter or longer than the header
          const cells = header.map((h) => (row as Record<string, unknown>)[h] as string ?? row.other);
          if (row.ragged < 0) cells.length = Math.max(0, cells.length + row.ragged);
          else for (let k = 0; k < row.ragged; k++) cells.push(row.other);
          const r = checkRow(cells, i + 2, ctx);
          outcomes[r.kind]++;
          if (r.kind === 'candidate') assert.ok(parseAddress(r.address.email).ok, r.address.email);
        }
      },
    ));
    t.diagnostic(`rows: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.refused > 0 && outcomes.candidate > 0);
  });

  test('files: random bytes in either encoding are read as records or one named problem', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-fuzz-csv-'));
    try {
      let n = 0;
      await fuzz(t, 'readRecords on random files', 150, fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
          fc.array(fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('"', '""', '"a,b"', '\r\n', '\n', ',', '\uFEFF')), { maxLength: 6 }), { maxLength: 20 })
            .map((rows) => Buffer.from(rows.map((r) => r.join(',')).join('\n'), 'utf8')),
        ),
        fc.constantFrom('utf-8' as const, 'windows-1252' as const),
        async (bytes, encoding) => {
          const file = path.join(dir, `${n++}.csv`);
          fs.writeFileSync(file, bytes);
          const read = async () => {
            let records = 0;
            for await (const item of readRecords(file, { encoding, maxRecordBytes: 1024 })) {
              if (item.kind === 'records') records += item.records.length;
              else assert.ok(['quote_not_closed', 'record_too_large'].includes(item.code));
            }
            return records;
          };
          await within(3000, 'reading a CSV file', read());
          fs.rmSync(file);
        },
      ));
      // every windows-1252 byte decodes to one character
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      assert.equal(decode1252(all).length, 256);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the segment language', () => {
  const dummy = (dialect: 'sqlite' | 'postgres') => new Kysely<any>({
    dialect: {
      createAdapter: () => (dialect === 'sqlite' ? new SqliteAdapter() : new PostgresAdapter()),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => (dialect === 'sqlite' ? new SqliteIntrospector(db) : new PostgresIntrospector(db)),
      createQueryCompiler: () => (dialect === 'sqlite' ? new SqliteQueryCompiler() : new PostgresQueryCompiler()),
    },
  });
  const dbs = { sqlite: dummy('sqlite'), postgres: dummy('postgres') };
  const NOW = Date.parse('2026-06-01T12:00:00Z');

  /** The audience query with the segment's condition, compiled (not run): its SQL text and parameters. */
  function compiled(text: string, dialect: 'sqlite' | 'postgres') {
    const ast = parseSegment(text);
    if (!ast.ok) return null;
    const f = compileSegment(ast.value, { dialect, now: NOW, tenantId: 'ten_a' });
    if (!f.ok) return null;
    const q = dbs[dialect].selectFrom('contacts as c').innerJoin('subscriptions as s', 's.contact_id', 'c.id').innerJoin('consents as r', 'r.id', 's.consent_id')
      .select('c.id').where((eb: any) => f.value(eb)).compile();
    return { sql: q.sql, parameters: q.parameters };
  }

  const field = fc.constantFrom('email', 'domain', 'created', 'subscribed', 'last_open', 'source', 'opt_in', 'list', 'fields.country', 'fields.age', 'fields.vip');
  const op = fc.constantFrom('=', '!=', '<', '<=', '>', '>=', 'contains', 'starts_with', 'ends_with');
  const str = fc.string({ maxLength: 30 });
  const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const value = fc.oneof(str.map(quote), fc.integer().map(String), fc.constantFrom('true', 'false', 'now', '30 days ago', '2026-01-31', '2026-01-31T10:00:00Z', '"form"', '"weekly"'));
  const comparison = fc.oneof(
    fc.tuple(field, op, value).map(([f, o, v]) => `${f} ${o} ${v}`),
    fc.tuple(field, fc.boolean()).map(([f, neg]) => `${f} is ${neg ? 'not ' : ''}set`),
    fc.tuple(field, fc.array(value, { minLength: 1, maxLength: 4 })).map(([f, vs]) => `${f} in [${vs.join(', ')}]`),
  );
  const segment: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      comparison,
      fc.tuple(tie('expr'), fc.constantFrom('and', 'or'), tie('expr')).map(([a, j, b]) => `${a} ${j} ${b}`),
      tie('expr').map((e) => `not (${e})`),
      tie('expr').map((e) => `(${e})`),
    ),
  })).expr;

  test('any text: a value or an error naming a column, never an exception', async (t) => {
    let compiledCount = 0;
    const soup = fc.array(fc.oneof(fc.constantFrom('(', ')', '[', ']', ',', '"', "'", 'and', 'or', 'not', 'in', 'is', 'set', '=', '!=', '<', '>=', 'contains',
      'fields.', 'email', 'list', 'days', 'ago', '\\', '9'.repeat(400), '-', '.', ' '), fc.string({ maxLength: 8 })), { maxLength: 60 }).map((a) => a.join(' '));
    await fuzz(t, 'parseSegment/compileSegment on random text', 1500, fc.property(fc.oneof(fc.string({ maxLength: 300 }), soup, segment), (text) => {
      const ast = parseSegment(text);
      if (!ast.ok) {
        assert.ok(ast.error.column >= 1 && typeof ast.error.message === 'string');
        return;
      }
      if (compiled(text, 'sqlite')) compiledCount++;
      compiled(text, 'postgres');
    }));
    t.diagnostic(`${compiledCount} of them compiled to SQL`);
    assert.ok(compiledCount > 100, 'the generator must reach the compiler');
  });

  test('hostile sizes end in an error, not a stack overflow', () => {
    for (const text of ['('.repeat(10_000), `${'not '.repeat(5000)}email = "a"`, Array.from({ length: 500 }, () => 'email = "a"').join(' or '), 'x'.repeat(LIMITS.chars + 1),
      `email in [${Array.from({ length: 2000 }, () => '"a"').join(',')}]`]) {
      const r = parseSegment(text);
      assert.equal(r.ok, false, text.slice(0, 40));
    }
  });

  test('user values reach SQL only as bound parameters: the SQL text does not depend on them', async (t) => {
    const slot = fc.tuple(fc.constantFrom('email', 'domain', 'fields.country', 'list', 'source'), fc.constantFrom('=', '!=', 'contains', 'starts_with', 'ends_with', 'in'));
    let compared = 0;
    await fuzz(t, 'segment SQL independent of the values', 1000, fc.property(slot, str, str, ([f, o], a, b) => {
      const text = (v: string) => (o === 'in' ? `${f} in [${quote(v)}]` : `${f} ${o} ${quote(v)}`);
      for (const dialect of ['sqlite', 'postgres'] as const) {
        const x = compiled(text(a), dialect);
        const y = compiled(text(b), dialect);
        if (!x || !y) continue; // refused (a list name, a source that is not one of the words): nothing reaches SQL
        assert.equal(x.sql, y.sql, `${dialect}: the SQL text changed with the value`);
        assert.equal(x.parameters.length, y.parameters.length);
        compared++;
      }
    }));
    t.diagnostic(`${compared} pairs compiled and compared`);
    assert.ok(compared > 500);
  });
});
