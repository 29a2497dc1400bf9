// Table tests of the pure Mailjet Send API v3.1 translation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildSendResponse,
  decodeBase64,
  isEmailAddress,
  mailjetField,
  mailjetIds,
  mergeGlobals,
  messageErrorFromFailure,
  overallStatus,
  parseBasicAuth,
  parseSendRequest,
  requestErrorFromFailure,
  sandboxReceipt,
  type MailjetError,
  type MailjetMessageResult,
  type ParsedSendRequest,
} from '../../src/http/mailjet/translate.ts';
import type { OutgoingMessage, SendReceipt } from '../../src/compose/types.ts';
import type { Failure, Result } from '../../src/errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const fixedId = () => '00000000-0000-4000-8000-000000000000';
const b64 = (s: string) => Buffer.from(s).toString('base64');

const base = {
  From: { Email: 'pilot@envoi.test', Name: 'Pilot' },
  To: [{ Email: 'passenger@example.com' }],
  Subject: 'Hi',
  TextPart: 'Hello',
};

function parsed(body: unknown): ParsedSendRequest {
  const r = parseSendRequest(body, fixedId);
  if ('requestError' in r) assert.fail(`unexpected request error ${JSON.stringify(r.requestError)}`);
  return r;
}

function one(message: Record<string, unknown>, globals?: Record<string, unknown>) {
  return parsed({ Messages: [message], ...(globals ? { Globals: globals } : {}) }).messages[0];
}

function errorsOf(message: Record<string, unknown>): Array<Pick<MailjetError, 'ErrorCode' | 'ErrorRelatedTo' | 'StatusCode'>> {
  const m = one(message);
  if (m.ok) assert.fail(`expected errors for ${JSON.stringify(message)}`);
  return m.errors.map(({ ErrorCode, ErrorRelatedTo, StatusCode }) => ({ ErrorCode, ErrorRelatedTo, StatusCode }));
}

test('a full message maps to an OutgoingMessage', () => {
  const m = one({
    ...base,
    Cc: [{ Email: 'cc@example.com', Name: 'Cc' }],
    Bcc: [{ Email: 'bcc@example.com' }],
    ReplyTo: { Email: 'reply@envoi.test' },
    HTMLPart: '<p>Hello <img src="cid:logo.png"></p>',
    Headers: { 'X-Tag': 'a' },
    CustomID: 'c-1',
    EventPayload: 'row,15',
    Attachments: [{ ContentType: 'text/plain', Filename: 'a.txt', Base64Content: b64('A') }],
    InlinedAttachments: [
      { ContentType: 'image/png', Filename: 'logo.png', Base64Content: b64('PNG') },
      { ContentType: 'image/gif', Filename: 'x.gif', ContentID: 'id1', Base64Content: b64('GIF') },
    ],
  });
  assert.deepEqual(m, {
    ok: true,
    value: {
      from: { email: 'pilot@envoi.test', name: 'Pilot' },
      to: [{ email: 'passenger@example.com' }],
      cc: [{ email: 'cc@example.com', name: 'Cc' }],
      bcc: [{ email: 'bcc@example.com' }],
      replyTo: { email: 'reply@envoi.test' },
      subject: 'Hi',
      text: 'Hello',
      html: '<p>Hello <img src="cid:logo.png"></p>',
      headers: { 'X-Tag': 'a' },
      customId: 'c-1',
      attachments: [
        { filename: 'a.txt', contentType: 'text/plain', content: Buffer.from('A') },
        // without ContentID, Mailjet lets the HTML use cid:<Filename>
        { filename: 'logo.png', contentType: 'image/png', content: Buffer.from('PNG'), contentId: 'logo.png' },
        { filename: 'x.gif', contentType: 'image/gif', content: Buffer.from('GIF'), contentId: 'id1' },
      ],
    } satisfies OutgoingMessage,
  });
});

test('flags default to false and are read when boolean', () => {
  assert.deepEqual(
    [parsed({ Messages: [base] }), parsed({ Messages: [base], SandboxMode: true, AdvanceErrorHandling: true })].map((p) => [
      p.sandboxMode,
      p.advanceErrorHandling,
    ]),
    [[false, false], [true, true]],
  );
});

test('Globals merge as Mailjet documents: scalars overridden, objects merged, arrays appended', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]> = [
    ['message scalar wins', { Subject: 'global' }, { Subject: 'mine' }, { Subject: 'mine' }],
    ['global scalar fills in', { Subject: 'global' }, {}, { Subject: 'global' }],
    ['objects merge, message keys win', { From: { Email: 'g@x.test', Name: 'G' } }, { From: { Email: 'm@x.test' } }, { From: { Email: 'm@x.test', Name: 'G' } }],
    ['headers merge case-insensitively', { Headers: { 'X-Tag': 'g', 'X-Other': 'o' } }, { Headers: { 'x-tag': 'm' } }, { Headers: { 'X-Other': 'o', 'x-tag': 'm' } }],
    ['arrays append, globals first', { Cc: [{ Email: 'g@x.test' }] }, { Cc: [{ Email: 'm@x.test' }] }, { Cc: [{ Email: 'g@x.test' }, { Email: 'm@x.test' }] }],
    ['type clash: message wins as is', { From: { Email: 'g@x.test' } }, { From: 'm@x.test' }, { From: 'm@x.test' }],
  ];
  for (const [name, g, m, want] of cases) assert.deepEqual(mergeGlobals(g, m), want, name);
});

test('Globals reach every message', () => {
  const p = parsed({
    Globals: { From: { Email: 'pilot@envoi.test' }, Subject: 'Plan', Attachments: [{ ContentType: 'text/plain', Filename: 'g.txt', Base64Content: b64('G') }] },
    Messages: [
      { To: [{ Email: 'a@example.com' }], TextPart: 'A' },
      { To: [{ Email: 'b@example.com' }], TextPart: 'B', Subject: 'Own' },
    ],
  });
  const [a, b] = p.messages.map((m) => (m.ok ? m.value : assert.fail('expected ok')));
  assert.deepEqual([a.from.email, a.subject, a.attachments?.[0].filename], ['pilot@envoi.test', 'Plan', 'g.txt']);
  assert.deepEqual([b.from.email, b.subject], ['pilot@envoi.test', 'Own']);
});

test('request-level errors', () => {
  const many = Array.from({ length: 51 }, () => base);
  const cases: Array<[string, unknown, string, string[] | undefined]> = [
    ['body is an array', [base], 'mj-0004', undefined],
    ['body is a string', 'hello', 'mj-0004', undefined],
    ['body is null', null, 'mj-0004', undefined],
    ['Messages missing', {}, 'mj-0003', ['Messages']],
    ['Messages not an array', { Messages: base }, 'mj-0004', ['Messages']],
    ['Messages empty', { Messages: [] }, 'mj-0007', ['Messages']],
    ['more than 50 messages', { Messages: many }, 'mj-0008', ['Messages']],
    ['SandboxMode not boolean', { Messages: [base], SandboxMode: 'true' }, 'mj-0004', ['SandboxMode']],
    ['AdvanceErrorHandling not boolean', { Messages: [base], AdvanceErrorHandling: 1 }, 'mj-0004', ['AdvanceErrorHandling']],
    ['Globals not an object', { Messages: [base], Globals: [] }, 'mj-0004', ['Globals']],
    ['To in Globals', { Messages: [base], Globals: { To: [{ Email: 'a@example.com' }] } }, 'mj-0005', ['Globals.To']],
  ];
  for (const [name, body, code, related] of cases) {
    const r = parseSendRequest(body, fixedId);
    assert.ok('requestError' in r, name);
    assert.equal(r.requestError.ErrorCode, code, name);
    assert.equal(r.requestError.StatusCode, 400, name);
    assert.deepEqual(r.requestError.ErrorRelatedTo, related, name);
    assert.equal(r.requestError.ErrorIdentifier, fixedId(), name);
    assert.ok(r.requestError.ErrorMessage.length > 0, name);
  }
});

test('exactly 50 messages are accepted', () => {
  assert.equal(parsed({ Messages: Array.from({ length: 50 }, () => base) }).messages.length, 50);
});

test('per-message validation errors, in Mailjet shape', () => {
  const { From: _f, ...noFrom } = base;
  const { To: _t, ...noTo } = base;
  const { TextPart: _x, ...noContent } = base;
  const e = (ErrorCode: string, ErrorRelatedTo: string[], StatusCode = 400) => ({ ErrorCode, ErrorRelatedTo, StatusCode });
  const att = (over: Record<string, unknown>) => ({ ContentType: 'text/plain', Filename: 'a.txt', Base64Content: b64('A'), ...over });
  const cases: Array<[string, Record<string, unknown>, ReturnType<typeof e>[]]> = [
    ['From missing', noFrom, [e('mj-0003', ['From'])]],
    ['From not an object', { ...base, From: 'pilot@envoi.test' }, [e('mj-0004', ['From'])]],
    ['From.Email missing', { ...base, From: { Name: 'x' } }, [e('mj-0003', ['From.Email'])]],
    ['From.Email empty', { ...base, From: { Email: '' } }, [e('mj-0012', ['From.Email'])]],
    ['From.Email invalid', { ...base, From: { Email: 'pilot' } }, [e('mj-0013', ['From.Email'])]],
    ['From.Name not a string', { ...base, From: { Email: 'pilot@envoi.test', Name: 3 } }, [e('mj-0004', ['From.Name'])]],
    ['To missing', noTo, [e('mj-0003', ['To'])]],
    ['To empty', { ...base, To: [] }, [e('mj-0007', ['To'])]],
    ['To not an array', { ...base, To: { Email: 'a@example.com' } }, [e('mj-0004', ['To'])]],
    ['second To invalid', { ...base, To: [{ Email: 'a@example.com' }, { Email: 'foo@test' }] }, [e('mj-0013', ['To[1].Email'])]],
    ['Cc entry not an object', { ...base, Cc: ['cc@example.com'] }, [e('mj-0004', ['Cc[0]'])]],
    ['Bcc invalid', { ...base, Bcc: [{ Email: 'x@123.4' }] }, [e('mj-0013', ['Bcc[0].Email'])]],
    ['ReplyTo invalid', { ...base, ReplyTo: { Email: 'nope' } }, [e('mj-0013', ['ReplyTo.Email'])]],
    ['too many recipients', { ...base, To: Array.from({ length: 30 }, (_, i) => ({ Email: `t${i}@example.com` })), Cc: Array.from({ length: 21 }, (_, i) => ({ Email: `c${i}@example.com` })) }, [e('send-0015', ['To', 'Cc', 'Bcc'])]],
    ['Subject not a string', { ...base, Subject: 42 }, [e('mj-0004', ['Subject'])]],
    ['no content part', noContent, [e('send-0003', ['TextPart', 'HTMLPart', 'TemplateID'])]],
    ['empty content parts', { ...noContent, TextPart: '', HTMLPart: '' }, [e('send-0003', ['TextPart', 'HTMLPart', 'TemplateID'])]],
    ['a TemplateID that is not a positive integer', { ...noContent, TemplateID: 'welcome' }, [e('mj-0004', ['TemplateID'])]],
    ["Mailjet's templating language without a TemplateID", { ...noContent, TextPart: 'Hi {{var:name}}', TemplateLanguage: true }, [e('mj-0005', ['TemplateLanguage'])]],
    ['TemplateLanguage', { ...base, TemplateLanguage: true }, [e('mj-0005', ['TemplateLanguage'])]],
    ['forbidden header', { ...base, Headers: { From: 'x@example.com' } }, [e('send-0011', ['Headers["From"]'])]],
    ['Mailjet header', { ...base, Headers: { 'X-MJ-CustomID': '1' } }, [e('send-0011', ['Headers["X-MJ-CustomID"]'])]],
    ['header value not a string', { ...base, Headers: { 'X-N': 1 } }, [e('mj-0004', ['Headers["X-N"]'])]],
    ['header name invalid', { ...base, Headers: { 'Bad Name': 'x' } }, [e('mj-0005', ['Headers["Bad Name"]'])]],
    ['Headers not an object', { ...base, Headers: ['X-A: b'] }, [e('mj-0004', ['Headers'])]],
    ['invalid base64', { ...base, Attachments: [att({ Base64Content: 'not base64!' })] }, [e('mj-0004', ['Attachments[0].Base64Content'])]],
    ['Filename missing', { ...base, Attachments: [att({ Filename: undefined })] }, [e('mj-0003', ['Attachments[0].Filename'])]],
    ['ContentType empty', { ...base, InlinedAttachments: [att({ ContentType: '' })] }, [e('mj-0012', ['InlinedAttachments[0].ContentType'])]],
    ['Base64Content empty', { ...base, Attachments: [att({ Base64Content: '' })] }, [e('mj-0012', ['Attachments[0].Base64Content'])]],
    ['Attachments not an array', { ...base, Attachments: att({}) }, [e('mj-0004', ['Attachments'])]],
    ['more than 50 attachments', { ...base, Attachments: Array.from({ length: 51 }, () => att({})) }, [e('mj-0008', ['Attachments'])]],
    ['TrackOpens value', { ...base, TrackOpens: 'sometimes' }, [e('mj-0005', ['TrackOpens'])]],
    ['DeduplicateCampaign alone', { ...base, DeduplicateCampaign: true }, [e('send-0012', ['CustomCampaign', 'DeduplicateCampaign'])]],
    ['several problems at once', { To: [{ Email: 'bad' }] }, [e('mj-0003', ['From']), e('mj-0013', ['To[0].Email']), e('send-0003', ['TextPart', 'HTMLPart', 'TemplateID'])]],
  ];
  for (const [name, message, want] of cases) assert.deepEqual(errorsOf(message), want, name);
});

test('a message that is not an object fails alone', () => {
  const p = parsed({ Messages: ['hello', base] });
  assert.equal(p.messages[0].ok, false);
  assert.equal(p.messages[1].ok, true);
  if (!p.messages[0].ok) assert.equal(p.messages[0].errors[0].ErrorCode, 'mj-0004');
});

test('error identifiers are fresh UUIDs by default', () => {
  const r = parseSendRequest({ Messages: [{ ...base, From: undefined }] });
  assert.ok(!('requestError' in r));
  const m = r.messages[0];
  assert.ok(!m.ok);
  assert.match(m.errors[0].ErrorIdentifier, UUID);
});

test('strict base64', () => {
  const cases: Array<[string, string | undefined]> = [
    ['SGVsbG8=', 'Hello'],
    ['SGVsbG8', 'Hello'], // unpadded
    ['SGVs\r\nbG8=', 'Hello'], // MIME line breaks
    ['SGVsbG8*', undefined],
    ['SGVsbG8==', undefined], // bad padding length
    ['S', undefined],
    ['', undefined],
    ['SGVs=bG8=', undefined],
  ];
  for (const [input, want] of cases) assert.equal(decodeBase64(input)?.toString(), want, input);
});

test('address syntax', () => {
  const valid = ['a@example.com', 'first.last+tag@sub.example.co.uk', 'o\'hara@example.ie', 'josé@exämple.de', 'x@xn--80ak6aa92e.com'];
  const invalid = ['brokenemail', 'foo@test', 'x@123.4', '@example.com', 'a@', 'a@@example.com', 'a b@example.com', 'a..b@example.com', '.a@example.com', 'a@-x.com', 'a@x..com', '<a@example.com>', 'a@example.com\r\nBcc: b@example.com'];
  for (const a of valid) assert.equal(isEmailAddress(a), true, a);
  for (const a of invalid) assert.equal(isEmailAddress(a), false, a);
});

const receipt = (...ids: Array<[string, 'to' | 'cc' | 'bcc', string]>): Result<SendReceipt> => ({
  ok: true,
  value: { id: 'msg_1', messageId: '1@envoi.test', recipients: ids.map(([email, kind, id]) => ({ email, kind, id })) },
});
const failure = (code: Failure['code'], field?: string): Result<SendReceipt> => ({ ok: false, error: { code, detail: 'why', ...(field ? { field } : {}) } });

test('success entries: To/Cc/Bcc with derived ids, CustomID, MessageHref', () => {
  const { body, status } = buildSendResponse(
    [receipt(['a@example.com', 'to', 'rcp_a'], ['c@example.com', 'cc', 'rcp_c'])],
    { baseUrl: 'https://mail.example.test/', customIds: ['c-1'] },
  );
  const ida = mailjetIds('rcp_a');
  assert.equal(status, 200);
  assert.deepEqual(body.Messages[0], {
    Status: 'success',
    CustomID: 'c-1',
    To: [{ Email: 'a@example.com', MessageUUID: ida.uuid, MessageID: ida.id, MessageHref: `https://mail.example.test/v3/REST/message/${ida.id}` }],
    Cc: [{ Email: 'c@example.com', ...(({ uuid, id }) => ({ MessageUUID: uuid, MessageID: id, MessageHref: `https://mail.example.test/v3/REST/message/${id}` }))(mailjetIds('rcp_c')) }],
    Bcc: [],
  });
});

test('CustomID defaults to an empty string, as Mailjet answers', () => {
  const { body } = buildSendResponse([receipt(['a@example.com', 'to', 'rcp_a'])], { baseUrl: 'https://h' });
  assert.equal((body.Messages[0] as { CustomID: string }).CustomID, '');
});

test('sandbox receipts answer with empty ids, as Mailjet sandbox does', () => {
  const msg: OutgoingMessage = { from: { email: 'p@envoi.test' }, to: [{ email: 'a@example.com' }], bcc: [{ email: 'b@example.com' }], subject: 's' };
  const { body, status } = buildSendResponse([{ ok: true, value: sandboxReceipt(msg) }], { baseUrl: 'https://h' });
  assert.equal(status, 200);
  assert.deepEqual(body.Messages[0], {
    Status: 'success',
    CustomID: '',
    To: [{ Email: 'a@example.com', MessageUUID: '', MessageID: 0, MessageHref: 'https://h/v3/REST/message/0' }],
    Cc: [],
    Bcc: [{ Email: 'b@example.com', MessageUUID: '', MessageID: 0, MessageHref: 'https://h/v3/REST/message/0' }],
  });
});

test('envoi failures become Mailjet-shaped errors with the envoi code in the message', () => {
  const cases: Array<[Failure['code'], string | undefined, string, number, string[]]> = [
    ['message.from_not_verified', 'from.email', 'send-0008', 422, ['From.Email']],
    ['message.freemail_from', 'from', 'send-0008', 422, ['From']],
    ['message.too_large', undefined, 'mj-0011', 413, []],
    ['message.invalid_address', 'to[2].email', 'mj-0013', 400, ['To[2].Email']],
    ['message.header_injection', 'subject', 'mj-0005', 400, ['Subject']],
    ['rate_limited', undefined, 'envoi-rate_limited', 429, []],
    ['internal', undefined, 'envoi-internal', 500, []],
  ];
  for (const [code, field, mj, status, related] of cases) {
    const { body } = buildSendResponse([failure(code, field)], { baseUrl: 'https://h', newId: fixedId });
    const entry = body.Messages[0];
    assert.equal(entry.Status, 'error', code);
    if (entry.Status !== 'error') continue;
    assert.deepEqual(entry.Errors, [
      { ErrorIdentifier: fixedId(), ErrorCode: mj, StatusCode: status, ErrorMessage: `why (envoi: ${code})`, ErrorRelatedTo: related },
    ], code);
  }
});

test('envoi field paths in Mailjet words', () => {
  const msg: OutgoingMessage = {
    from: { email: 'p@envoi.test' },
    to: [{ email: 'a@example.com' }],
    subject: 's',
    attachments: [
      { filename: 'a', contentType: 'text/plain', content: Buffer.from('') },
      { filename: 'b', contentType: 'image/png', content: Buffer.from(''), contentId: 'b' },
    ],
  };
  const cases: Array<[string, OutgoingMessage | undefined, string]> = [
    ['from', undefined, 'From'],
    ['from.email', undefined, 'From.Email'],
    ['to[3].name', undefined, 'To[3].Name'],
    ['replyTo.email', undefined, 'ReplyTo.Email'],
    ['text', undefined, 'TextPart'],
    ['html', undefined, 'HTMLPart'],
    ['headers.X-Foo', undefined, 'Headers["X-Foo"]'],
    ['attachments[0].filename', msg, 'Attachments[0].Filename'],
    ['attachments[1].content', msg, 'InlinedAttachments[0].Base64Content'],
    ['attachments[1]', undefined, 'Attachments'],
    ['stream', undefined, 'stream'],
    ['something.else[', undefined, 'something.else['],
  ];
  for (const [field, m, want] of cases) assert.equal(mailjetField(field, m), want, field);
  assert.deepEqual(messageErrorFromFailure({ code: 'message.invalid', detail: 'd', field: 'attachments[1].filename' }, msg, fixedId).errors[0].ErrorRelatedTo, ['InlinedAttachments[0].Filename']);
});

test('the overall status rule', () => {
  const ok: MailjetMessageResult = { Status: 'success', CustomID: '', To: [], Cc: [], Bcc: [] };
  const err = (...codes: number[]): MailjetMessageResult => ({ Status: 'error', Errors: codes.map((c) => ({ ErrorIdentifier: '', ErrorCode: '', StatusCode: c, ErrorMessage: '', ErrorRelatedTo: [] })) });
  const cases: Array<[string, MailjetMessageResult[], number]> = [
    ['all succeed', [ok, ok], 200],
    ['one fails validation', [ok, err(400)], 400],
    ['all fail validation', [err(400), err(400, 400)], 400],
    ['sender refused (422) on its own', [err(422)], 400],
    ['nothing sent, all temporary', [err(503), err(500)], 503],
    ['nothing sent, rate limited', [err(429)], 429],
    ['temporary failure next to a success: inspect, do not retry all', [ok, err(503)], 400],
    ['temporary and permanent mixed', [err(503), err(400)], 400],
  ];
  for (const [name, entries, want] of cases) assert.equal(overallStatus(entries), want, name);
});

test('derived Mailjet ids are stable, distinct, positive and below 2^53', () => {
  const a = mailjetIds('rcp_01hzz');
  assert.deepEqual(mailjetIds('rcp_01hzz'), a);
  assert.notDeepEqual(mailjetIds('rcp_01hzy'), a);
  assert.match(a.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const ids = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const { id } = mailjetIds(`rcp_${i}`);
    assert.ok(Number.isSafeInteger(id) && id > 0 && id < 2 ** 53);
    ids.add(id);
  }
  assert.equal(ids.size, 2000);
});

test('HTTP Basic credentials', () => {
  const h = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  const cases: Array<[string | undefined, { user: string; pass: string } | undefined]> = [
    [h('key:secret'), { user: 'key', pass: 'secret' }],
    [h('key:sec:ret'), { user: 'key', pass: 'sec:ret' }],
    [h('key:'), { user: 'key', pass: '' }],
    [`basic ${Buffer.from('k:s').toString('base64')}`, { user: 'k', pass: 's' }],
    [h(':secret'), undefined],
    [h('nocolon'), undefined],
    ['Bearer abc', undefined],
    ['Basic', undefined],
    [undefined, undefined],
  ];
  for (const [header, want] of cases) assert.deepEqual(parseBasicAuth(header), want, String(header));
});

test('request-level failures keep the envoi status and name the code', () => {
  assert.deepEqual(requestErrorFromFailure({ code: 'auth.invalid', detail: 'wrong secret' }, fixedId), {
    ErrorIdentifier: fixedId(),
    ErrorCode: 'mj-0015',
    StatusCode: 401,
    ErrorMessage: 'wrong secret (envoi: auth.invalid)',
  });
  assert.equal(requestErrorFromFailure({ code: 'request.malformed', detail: 'x' }).ErrorCode, 'mj-0002');
  assert.equal(requestErrorFromFailure({ code: 'tenant.not_active', detail: 'x' }).ErrorCode, 'mj-0001');
});
