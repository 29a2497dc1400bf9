// The SMTP session over time and size: per-step timeouts (a slow peer, a
// stalled one), SIZE, connection reuse, the bound source address, and what
// the transcript may and may not hold (commands and replies; no body, no secret).
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { ENVELOPE, failed, isSession, open, peer, RAW, sendOne, useSmtpFixture } from './smtp-fixture.ts';

useSmtpFixture();

describe('limits', () => {
  test('a peer slower than the greeting timeout: failed timeout, quickly', async () => {
    const p = await peer({ script: { slowMs: 2_000, slowAt: 'greeting' } });
    const t0 = Date.now();
    const out = failed(await sendOne(p, { greetingTimeoutMs: 300 }));
    assert.equal(out.stage, 'timeout');
    assert.match(out.text, /greeting/);
    assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
  });

  test('a peer slower than the end-of-data timeout: failed timeout, quickly, nothing confirmed', async () => {
    const p = await peer({ script: { slowMs: 2_000, slowAt: 'data' } });
    const t0 = Date.now();
    const out = failed(await sendOne(p, { commandTimeoutsMs: { dataEnd: 300 } }));
    assert.equal(out.stage, 'timeout');
    assert.match(out.text, /end of the message/);
    assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
  });

  test('a peer that stops reading the message data: failed timeout once no block goes through', async () => {
    // smtp-server always reads, so a bare server that pauses its socket after 354
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.write('220 stall.test ESMTP\r\n');
      s.on('data', (d) => {
        for (const line of d.toString('latin1').split('\r\n').filter(Boolean)) {
          if (/^DATA/i.test(line)) {
            s.write('354 go ahead\r\n');
            s.pause();
            return;
          }
          s.write(/^EHLO/i.test(line) ? '250-stall.test\r\n250 PIPELINING\r\n' : '250 2.0.0 OK\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
    try {
      const t0 = Date.now();
      // larger than what the loopback socket buffers can hold
      const big = Buffer.alloc(32 * 1024 * 1024, 'a');
      const out = failed(await sendOne({ host: '127.0.0.2', port: (server.address() as net.AddressInfo).port }, { tls: 'opportunistic', commandTimeoutsMs: { dataBlock: 300 } }, ENVELOPE, big));
      assert.equal(out.stage, 'timeout');
      assert.match(out.text, /take the message data/);
      assert.ok(Date.now() - t0 < 3_000, `took ${Date.now() - t0} ms`);
    } finally {
      server.close();
    }
  });

  test('a message larger than the advertised SIZE is not sent', async () => {
    const p = await peer({ size: 1_000 });
    const out = failed(await sendOne(p, {}, ENVELOPE, Buffer.concat([RAW, Buffer.alloc(5_000, 'x')])));
    assert.equal(out.stage, 'mail');
    assert.match(out.text, /SIZE/);
    assert.match(out.text, /1000/);
    assert.ok(!out.transcript.some((l) => l.startsWith('C: MAIL')));
    assert.equal(p.received.length, 0);
  });

  test('connection reuse: 3 messages over one session; RSET only after a transaction that did not end', async () => {
    // r2 is refused at RCPT: its transaction stops there, so the next one begins with RSET
    const p = await peer({ script: { onRcptTo: (a) => (a.startsWith('r2@') ? { code: 550, text: '5.1.1 no such user' } : undefined) } });
    const s = await open(p);
    assert.ok(isSession(s));
    const outs = [];
    for (const n of [1, 2, 3]) outs.push(await s.send({ from: 'bounce@sender.test', to: [`r${n}@rcpt.test`] }, RAW));
    assert.deepEqual(outs.map((o) => o.kind), ['sent', 'failed', 'sent']);
    assert.equal(s.messagesSent, 2);
    // the end of the data already cleared the server's state (RFC 5321 4.1.1.4)
    assert.ok(!outs[1].transcript.includes('C: RSET'), outs[1].transcript.join('\n'));
    assert.ok(outs[2].transcript.includes('C: RSET'), outs[2].transcript.join('\n'));
    await s.close();
    assert.equal(s.usable, false);
    assert.equal(p.sessions.total, 1);
    assert.equal(p.sessions.max, 1);
    assert.deepEqual(p.received.map((r) => r.to[0]), ['r1@rcpt.test', 'r3@rcpt.test']);
  });

  test('the source address is bound: the peer sees 127.0.0.3', async () => {
    const p = await peer();
    assert.equal((await sendOne(p, { localAddress: '127.0.0.3' })).kind, 'sent');
    assert.equal(p.received[0].remoteAddress, '127.0.0.3');
  });
});

describe('transcript', () => {
  test('has every command and reply, never the body', async () => {
    const p = await peer();
    const out = await sendOne(p);
    const t = out.transcript;
    for (const line of ['C: EHLO mta1.envoi.test', 'C: STARTTLS', 'C: MAIL FROM:<bounce@sender.test> BODY=8BITMIME', 'C: RCPT TO:<b@rcpt.test>', 'C: DATA']) {
      assert.ok(t.includes(line), `missing ${line}`);
    }
    assert.ok(t.some((l) => /^S: 220 /.test(l)));
    assert.ok(t.some((l) => /^S: 354 /.test(l)));
    assert.ok(t.some((l) => /^S: 250 OK/.test(l)));
    const all = t.join('\n');
    for (const bodyPart of ['Bonjour', 'Café', 'a line with a dot', 'news@sender.test']) assert.ok(!all.includes(bodyPart), `body leaked: ${bodyPart}`);
  });

  test('smart host: AUTH over TLS, the password never in the transcript', async () => {
    const user = 'relay-user';
    const pass = 'S3cret-pa55word';
    const p = await peer({ auth: { user, pass } });
    const out = await sendOne(p, { smartHost: { user, pass } });
    assert.equal(out.kind, 'sent');
    assert.ok(out.transcript.some((l) => l.startsWith('C: AUTH PLAIN')));
    const all = out.transcript.join('\n');
    for (const secret of [pass, Buffer.from(pass).toString('base64'), Buffer.from(`\0${user}\0${pass}`).toString('base64')]) {
      assert.ok(!all.includes(secret), 'a secret leaked into the transcript');
    }
  });

  test('smart host with a wrong password: failed at auth with the reply', async () => {
    const p = await peer({ auth: { user: 'u', pass: 'right' } });
    const out = failed(await sendOne(p, { smartHost: { user: 'u', pass: 'wrong' } }));
    assert.equal(out.stage, 'auth');
    assert.equal(out.code, 535);
    assert.ok(!out.transcript.join('\n').includes('wrong'));
    assert.equal(p.received.length, 0);
  });
});
