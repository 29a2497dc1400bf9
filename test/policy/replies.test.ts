// Reply classification, table-tested with real replies (issue 5, STYLE 4-5).
// Each line says where it was found. Addresses and IPs are anonymised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyReply, parseEnhanced, parseReplyRules, replyRules, type Classified } from '../../src/policy/replies.ts';
import data from '../../src/policy/data/replies.json' with { type: 'json' };

type Expect = Partial<Record<'kind' | 'category' | 'hard' | 'permanent' | 'retryAfterMinutes' | 'rule', unknown>>;
type Case = [provider: string | undefined, code: number, text: string, expected: Expect];

const cases: Case[] = [
  // --- Gmail ---
  // https://emailit.com/docs/dictionary/enhanced-status-codes.md
  ['google', 550, '550 5.1.1 The email account that you tried to reach does not exist.', { kind: 'bounced', category: 'unknown-user', hard: true }],
  // Google, Gmail SMTP errors and codes (support.google.com/a/answer/3726730)
  ['google', 452, '452-4.2.2 The email account that you tried to reach is over quota. Please direct the recipient to Clear Google Drive space & increase storage.', { kind: 'deferred', category: 'mailbox-full' }],
  // https://skystra.com/help-email/mail-blocked-unauthenticated-gmail/
  ['google', 550, '550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.', { kind: 'blocked', category: 'authentication', permanent: true }],
  // https://community.nanog.org/t/gmail-throttling/45385
  ['google', 421, '421-4.7.0 [163.10.4.2 15] Our system has detected an unusual rate of\n421-4.7.0 unsolicited mail originating from your IP address. To protect our\n421-4.7.0 users from spam, mail sent from your IP address has been temporarily\n421-4.7.0 rate limited. Please visit http://www.google.com/mail/help/bulk_mail.\n421 4.7.0 html to review our Bulk Email Senders Guidelines. v69si8136768yhd.33 - gsmtp', { kind: 'deferred', category: 'reputation' }],
  // https://discuss.vultr.com/discussion/1031/gmail-is-blocking-my-email (code reported apart from the text)
  ['google', 421, 'Our system has detected that this message is 421-4.7.0 suspicious due to the very low reputation of the sending IP address. 421-4.7.0 To protect our users from spam, mail sent from your IP address has 421-4.7.0 been temporarily rate limited.', { kind: 'deferred', category: 'reputation' }],
  // https://www.wordtothewise.com/2014/04/example-bounces-due-yahoo-preject
  ['google', 550, 'Our system has detected that this message is 550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail, 550-5.7.1 this message has been blocked.', { kind: 'blocked', category: 'spam', permanent: true }],
  // https://pastebin.com/Rj7iXShc
  ['google', 550, '550-5.7.1 [74.208.41.59] The IP address sending this message does not have a PTR 550-5.7.1 record setup. As a policy, Gmail does not accept messages from IPs 550-5.7.1 with missing PTR records.', { kind: 'blocked', category: 'authentication', rule: 'no-ptr' }],
  // https://www.spamresource.com/2025/12/help-im-seeing-550-5725-errors-at-gmail.html
  ['google', 550, '550-5.7.25 The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not match the sending IP.', { kind: 'blocked', category: 'authentication', permanent: true }],
  // Google's 4.7.32 reply, quoted in a SendGrid troubleshooting note found by code search ("Fix DMARC Alignment Error di SendGrid")
  ['google', 421, '421 4.7.32 Your email has been rate limited because the From: header (RFC5322) in this message isn\'t aligned with either the authenticated SPF or DKIM organizational domain.', { kind: 'blocked', category: 'authentication', permanent: false }],
  // Google, Gmail SMTP errors and codes (knowledge.workspace.google.com/.../gmail-smtp-errors-and-codes)
  ['google', 450, '450-4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your message at a later time.', { kind: 'deferred', category: 'rate' }],
  // Google, Gmail SMTP errors and codes (support.google.com/a/answer/3726730)
  ['google', 550, '550-5.2.1 The email account that you tried to reach is inactive.', { kind: 'bounced', category: 'other', hard: false }],
  // https://community.nanog.org/t/gmail-throttling/45385
  ['google', 250, '250 2.1.5 OK v69si8136768yhd.33 - gsmtp', { kind: 'delivered' }],
  // --- Yahoo / AOL ---
  // https://github.com/Mailu/Mailu/issues/1458
  ['yahoo', 421, '421 4.7.0 [TSS04] Messages from 192.0.2.10 temporarily deferred due to user complaints - 4.16.55.1; see https://help.yahoo.com/kb/postmaster/SLN3434.html', { kind: 'deferred', category: 'reputation', retryAfterMinutes: 240 }],
  // http://help.yahoo.com/l/in/yahoo/mail/original/abuse/abuse-57.html
  ['yahoo', 554, "554 delivery error: dd This user doesn't have a yahoo.com account (jane@yahoo.com)", { kind: 'bounced', category: 'unknown-user', hard: true }],
  // same page
  ['yahoo', 554, '554 delivery error: dd Sorry, your message to jane@yahoo.com cannot be delivered. This account is over quota.', { kind: 'bounced', category: 'mailbox-full', hard: false }],
  // http://www.sitepackage.de/service/dokumentation/auswertung/typische-fehlermeldungen-bei-unzustellbarkeit.html
  ['yahoo', 554, '554 delivery error: dd Sorry your message to jane@yahoo.de cannot be delivered. This account has been disabled or discontinued', { kind: 'bounced', category: 'other', hard: false }],
  // https://www.wordtothewise.com/2014/04/example-bounces-due-yahoo-preject
  ['yahoo', 554, '554 5.7.9 Message not accepted for policy reasons.  See http://postmaster.yahoo.com/errors/postmaster-28.html', { kind: 'blocked', category: 'authentication', permanent: true }],
  // http://help.yahoo.com/l/in/yahoo/mail/original/abuse/abuse-57.html
  ['yahoo', 451, '451 VS1-IP Excessive unknown recipients - possible Open Relay (#4.1.8)', { kind: 'deferred', category: 'reputation' }],
  // https://help.yahoo.com/kb/SLN3436.html
  ['yahoo', 421, '421 4.7.1 [TS03] All messages from 192.0.2.10 permanently deferred', { kind: 'blocked', category: 'reputation', permanent: false }],
  // --- Microsoft (Outlook.com, Hotmail, Microsoft 365) ---
  // https://www.spamresource.com/2023/09/microsoft-multiple-types-of-invalid.html
  ['microsoft', 550, '550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [BN1NAM02FT012.eop-nam02.prod.protection.outlook.com 2023-09-19T15:05:34.324Z 08DBB71928CA8F8E]', { kind: 'bounced', category: 'unknown-user', hard: true }],
  ['microsoft', 550, '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup', { kind: 'bounced', category: 'unknown-user', hard: true }],
  ['microsoft', 550, '550 5.4.1 Recipient address rejected: Access denied. [AM7EUR03FT064.eop-EUR03.prod.protection.outlook.com 2023-09-18T12:48:32.808Z 08DBB45899852BA7]', { kind: 'bounced', category: 'unknown-user', hard: true }],
  // the same reply from an unknown provider proves nothing about the mailbox: soft
  ['default', 550, '550 5.4.1 Recipient address rejected: Access denied. [AM7EUR03FT064.eop-EUR03.prod.protection.outlook.com 2023-09-18T12:48:32.808Z 08DBB45899852BA7]', { kind: 'bounced', category: 'other', hard: false }],
  // https://sevencreative.co.uk/how-to-remove-yourself-from-the-hotmail-block-list/
  ['microsoft', 550, "550 5.7.1 Unfortunately, messages from [192.0.2.10] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).", { kind: 'blocked', category: 'blocklist', permanent: true }],
  // https://mailflowauthority.com/troubleshooting/outlook-550-5-7-606-fix
  ['microsoft', 550, '550 5.7.606 Access denied, banned sending IP [192.0.2.10]. To request removal from this list please visit https://sender.office.com/ and follow the directions.', { kind: 'blocked', category: 'blocklist' }],
  // https://forum.directadmin.com/threads/hotmail-ip-has-been-temporarily-rate-limited-... (S775)
  ['microsoft', 451, '451 4.7.650 The mail server [192.0.2.10] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster (S775) [Name=Protocol Filter Agent][AGT=PFA]', { kind: 'deferred', category: 'reputation' }],
  // https://learn.microsoft.com/en-us/answers/questions/5910730/temporary-rate-limiting (via suped.com)
  ['microsoft', 451, '451 4.7.651 The mail server [192.0.2.10] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S3114)', { kind: 'deferred', category: 'reputation' }],
  // https://github.com/sabuhish/fastapi-mail/issues/75
  ['microsoft', 432, '432 4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information. [Hostname=OS0PR01MB6099.jpnprd01.prod.outlook.com]', { kind: 'deferred', category: 'rate' }],
  // https://www.wordtothewise.com/2014/04/example-bounces-due-yahoo-preject
  ['microsoft', 550, '550 5.7.0 (COL0-MC6-F31) Unfortunately, messages from (192.0.2.10) on behalf of (yahoo.com) could not be delivered due to domain owner policy restrictions.', { kind: 'blocked', category: 'authentication' }],
  // --- Orange / Wanadoo ---
  // https://github.com/sisimai/p5-sisimai/issues/240
  ['orange', 550, '550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]', { kind: 'bounced', category: 'unknown-user', hard: true }],
  ['orange', 552, '552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]', { kind: 'bounced', category: 'mailbox-full', hard: false }],
  ['orange', 550, '550 5.2.0 Mail rejete. Mail rejected. ofr_506 [506]', { kind: 'blocked', category: 'spam', permanent: true }],
  ['orange', 421, '421 mwinf5c27 ME\nTrop de connexions, veuillez verifier votre configuration. Too many connections, slow down. OFR004_104 [104]', { kind: 'deferred', category: 'rate' }],
  ['orange', 550, '550 5.1.0 Emetteur invalide. Invalid Sender. OFR_415 [415]', { kind: 'blocked', category: 'policy' }],
  // https://github.com/sisimai/p5-sisimai/pull/353
  ['orange', 421, '421 4.2.0 Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR005_505 [505]', { kind: 'deferred', category: 'reputation', retryAfterMinutes: 120 }],
  // https://github.com/ActiveCampaign/smtp-field-manual/pull/60
  ['orange', 550, '550 mwinf5c14 ME Adresse IP source bloquee pour incident de spam. Client host blocked for spamming issues. OFR006_102 Ref http://csi.cloudmark.com/reset-request/?ip=192.0.2.10 [102]', { kind: 'blocked', category: 'blocklist', permanent: true }],
  // --- Free ---
  // https://github.com/JamBrain/JamBrain/issues/279 and http://postmaster.free.fr/
  ['free', 550, '550 spam detected', { kind: 'blocked', category: 'spam', permanent: true }],
  // https://github.com/iredmail/iRedMail/issues/156
  ['free', 421, '421 Refused. Your reverse DNS entry does not resolve to an IP.', { kind: 'blocked', category: 'authentication', permanent: false }],
  // --- SFR ---
  // https://bentonow.com/smtp-errors/sfr
  ['sfr', 421, '421 4.7.0 msfrf2604.sfr.fr Error: too many errors', { kind: 'deferred', category: 'reputation', retryAfterMinutes: 120 }],
  // https://doc.gadz.org/pages/diffpages.action?originalId=21791317&pageId=21792015
  ['sfr', 550, '550 5.7.1 Message content rejected', { kind: 'blocked', category: 'spam' }],
  // --- La Poste ---
  // https://doc.gadz.org/pages/diffpages.action?originalId=21791317&pageId=21792015
  ['laposte', 550, '550 5.5.0 Service refuse. Veuillez essayer plus tard. service refused, please try later. LPN007_510', { kind: 'blocked', category: 'spam', permanent: true }],
  // https://github.com/sisimai/p5-sisimai/issues/241
  ['laposte', 550, '550 5.5.0 SPF: 80.12.242.126 is not allowed to send mail. LPN004_401', { kind: 'blocked', category: 'authentication' }],
  ['laposte', 550, '550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. LPN416 416', { kind: 'bounced', category: 'unknown-user', hard: true }],
  ['laposte', 550, '550 550 5.1.1 Boite du destinataire archivee. Archived recipient. LPN004_420 [420]', { kind: 'bounced', category: 'other', hard: false }],
  // --- GMX, web.de, mail.com (United Internet) ---
  // https://postmaster.gmx.com/en/error-messages
  ['gmx', 554, '554-gmx.net (mxgmx104) Nemesis ESMTP Service not available\n554-No SMTP service\n554-IP address is block listed.\n554 For explanation visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=198.51.100.42&r=1MNcgj-1ue23t3pyV-00S2YR', { kind: 'blocked', category: 'blocklist', permanent: true }],
  // https://smtp.codes/unitedinternet/ (GMX, web.de, mail.com)
  ['gmx', 550, '550 <jane@gmx.net>: Reject due to SPF policy. The originating IP of the message is not permitted by the domain owner', { kind: 'blocked', category: 'authentication' }],
  ['gmx', 550, '550 <jane@mail.com>: Requested action not taken: mailbox unavailable', { kind: 'bounced', category: 'unknown-user', hard: true }],
  // https://ionos.de/hilfe/e-mail/postmaster/smtp-fehlermeldungen-der-11-ionos-mailserver
  ['gmx', 421, '421 Rate limit reached. Please try again later', { kind: 'deferred', category: 'rate' }],
  ['gmx', 421, '421 Reject due to policy violations', { kind: 'blocked', category: 'policy', permanent: false }],
  // http://www.sitepackage.de/service/dokumentation/auswertung/typische-fehlermeldungen-bei-unzustellbarkeit.html (web.de)
  ['gmx', 550, '550 Benutzer hat das Speichervolumen ueberschritten. / User has exhausted allowed storage space.', { kind: 'bounced', category: 'mailbox-full', hard: false }],
  ['gmx', 550, '550 Benutzer nicht bekannt/User unknown', { kind: 'bounced', category: 'unknown-user', hard: true }],
  // --- Apple iCloud ---
  // https://smtp.codes/icloud
  ['apple', 550, '550 5.1.1 <jane@icloud.com>: user does not exist', { kind: 'bounced', category: 'unknown-user', hard: true }],
  ['apple', 550, '550 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137', { kind: 'blocked', category: 'policy' }],
  ['apple', 421, '421 4.7.1 Messages to jane@icloud.com deferred due to excessive volume. Try again later - https://support.apple.com/en-us/HT204137', { kind: 'deferred', category: 'rate' }],
  ['apple', 550, '550 5.7.1 Your email was rejected due to having a domain present in the Spamhaus DBL -- see https://www.spamhaus.org/dbl/', { kind: 'blocked', category: 'blocklist' }],
  ['apple', 550, '550 5.7.1 Your message was rejected due to example.com DMARC policy.', { kind: 'blocked', category: 'authentication' }],
  // --- Other receivers ---
  // https://help.kreativmedia.ch/fr/erreur-554-blocked
  [undefined, 554, '554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org', { kind: 'blocked', category: 'blocklist' }],
  // https://www.bytecamp.net/de/faq/email/zustellen.html
  [undefined, 571, '571 5.7.1 message classified as spam', { kind: 'blocked', category: 'spam' }],
  [undefined, 422, '422 4.2.2 Quota limit exceeded', { kind: 'deferred', category: 'mailbox-full' }],
  [undefined, 450, '450 4.7.1 Client host rejected: cannot find your reverse hostname', { kind: 'blocked', category: 'authentication', permanent: false }],
  // https://support.onesystems.ch/722126-%C3%9Cbersicht-h%C3%A4ufig-vorkommender-Fehlermeldungen (our sender's domain, not the recipient's)
  [undefined, 550, '550 5.1.8 <jane@shop-news.fr>: Sender address rejected: Domain not found', { kind: 'blocked', category: 'policy' }],
  [undefined, 554, '554 5.7.1 <jane@example.com>: Relay access denied', { kind: 'blocked', category: 'policy' }],
  // https://doc.gadz.org/pages/diffpages.action?originalId=21791317&pageId=21792015
  [undefined, 550, '550 Denied by policy', { kind: 'blocked', category: 'policy' }],
  // https://coviserver.de/e-mail-geblockt (5.1.0 alone is no proof the address is gone: soft)
  [undefined, 550, '550 #5.1.0 Address rejected.', { kind: 'bounced', category: 'other', hard: false }],
  [undefined, 451, '451 4.7.1 Service unavailable - try again later', { kind: 'deferred', category: 'system' }],
  // http://www.sitepackage.de/... (Freenet)
  [undefined, 550, '550 unrouteable address', { kind: 'bounced', category: 'unknown-user', hard: true }],
];

function pick(c: Classified, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, (c as Record<string, unknown>)[k]]));
}

test('at least 40 real replies in the table', () => assert.ok(cases.length >= 40, `${cases.length} cases`));

for (const [provider, code, text, expected] of cases) {
  test(`${provider ?? 'any'} ${code}: ${text.slice(0, 70).replace(/\n/g, ' ')}`, () => {
    const got = classifyReply(code, text, { provider });
    assert.deepEqual(pick(got, Object.keys(expected)), expected);
  });
}

test('hard only for unknown user, unknown domain or moved, on a 5xx', () => {
  for (const [provider, code, text] of cases) {
    const got = classifyReply(code, text, { provider });
    if (got.kind === 'bounced') assert.equal(got.hard, code >= 500 && ['unknown-user', 'unknown-domain', 'has-moved'].includes(got.category), text);
    if (got.kind === 'blocked') assert.equal(got.permanent, code >= 500, text);
    if (code < 500 && code >= 400) assert.ok(got.kind === 'deferred' || got.kind === 'blocked', text);
  }
});

test('every rule of replies.json classifies its own example to itself', () => {
  assert.ok(replyRules().length >= 20);
  for (const r of replyRules()) {
    const got = classifyReply(Number(r.example.slice(0, 3)), r.example, { provider: r.providers?.[0] });
    assert.equal(got.rule, r.id, `${r.id}: ${r.example}`);
  }
});

const garbage: [number, string, Expect][] = [
  [Number.NaN, '', { kind: 'deferred', category: 'unparsable' }],
  [0, '', { kind: 'deferred', category: 'unparsable' }], // connection dropped before any reply
  [999, 'hello', { kind: 'deferred', category: 'unparsable' }],
  [421.5, '421 4.7.0 Try later', { kind: 'deferred', category: 'unparsable' }],
  [-550, '550 5.1.1 User unknown', { kind: 'deferred', category: 'unparsable' }],
  [421, '', { kind: 'deferred', category: 'service' }],
  [354, '354 Go ahead v69si8136768yhd.33 - gsmtp', { kind: 'deferred', category: 'protocol' }],
  [550, '', { kind: 'bounced', category: 'other', hard: false }], // permanent by protocol, but no proof the address is gone
  [550, 'ÿÿ\u0000garbage', { kind: 'bounced', category: 'other', hard: false }],
];
for (const [code, text, expected] of garbage) {
  test(`garbage ${code} ${JSON.stringify(text)} is safe`, () => {
    const got = classifyReply(code, text);
    assert.deepEqual(pick(got, Object.keys(expected)), expected);
  });
}

test('a missing text does not throw', () => {
  assert.equal(classifyReply(451, undefined as unknown as string).kind, 'deferred');
});

test('basic and enhanced codes alone (no rule matches)', () => {
  const table: [number, string, Expect][] = [
    [550, '550 5.1.1 <jane@example.com>', { kind: 'bounced', category: 'unknown-user', hard: true, rule: undefined }],
    [550, '550 5.1.2 <jane@example.invalid>', { kind: 'bounced', category: 'unknown-domain', hard: true }],
    [551, '551 5.1.6 <jane@example.com>', { kind: 'bounced', category: 'has-moved', hard: true }],
    [552, '552 5.2.2 <jane@example.com>', { kind: 'bounced', category: 'mailbox-full', hard: false }],
    [450, '450 4.1.1 <jane@example.com>', { kind: 'deferred', category: 'unknown-user' }],
    [554, '554 5.6.0 Message refused', { kind: 'bounced', category: 'message-rejected', hard: false }],
    [550, '550 5.7.1 Refused', { kind: 'blocked', category: 'policy', permanent: true }],
    [451, '451 4.4.2 Timeout - closing connection', { kind: 'deferred', category: 'network' }],
    [552, '552 Requested mail action aborted', { kind: 'bounced', category: 'mailbox-full', hard: false }],
    [556, '556 Domain does not accept mail', { kind: 'bounced', category: 'unknown-domain', hard: true }],
    [554, '554 Transaction failed', { kind: 'bounced', category: 'other', hard: false }],
  ];
  for (const [code, text, expected] of table) assert.deepEqual(pick(classifyReply(code, text), Object.keys(expected)), expected, text);
});

test('parseEnhanced', () => {
  const table: [string, string | undefined][] = [
    ['550 5.1.1 <x>: Recipient address rejected', '5.1.1'],
    ['550-5.7.26 This mail has been blocked', '5.7.26'],
    ['451 4.7.650 The mail server [192.0.2.10] has been temporarily rate limited', '4.7.650'],
    ['421 4.7.0 [TSS04] Messages from 192.0.2.10 temporarily deferred - 4.16.55.1', '4.7.0'],
    ['421 Message from (192.0.2.10) temporarily deferred - 4.16.50', undefined], // Yahoo's own code, not RFC 3463
    ['451 VS1-IP Excessive unknown recipients - possible Open Relay (#4.1.8)', '4.1.8'],
    ['550 Client 5.1.1.4 blocked', undefined], // an IP address
    ['550 spam detected', undefined],
    ['', undefined],
  ];
  for (const [text, expected] of table) assert.equal(parseEnhanced(text), expected, text);
});

test('a bad pattern file is refused', () => {
  const base = data.rules[0];
  const bad: unknown[] = [
    { rules: [{ ...base, match: { text: '(' } }] },
    { rules: [base, base] },
    { rules: [{ ...base, outcome: { kind: 'deferred', category: 'rate' } }] }, // deferred without class 4
    { rules: [{ ...base, example: 'no code here' }] },
    { rules: [{ ...base, extra: true }] },
    { rules: [{ ...base, outcome: { kind: 'bounced', category: 'gone' } }] },
  ];
  for (const b of bad) assert.throws(() => parseReplyRules(b));
  assert.equal(parseReplyRules(data).length, replyRules().length);
});
