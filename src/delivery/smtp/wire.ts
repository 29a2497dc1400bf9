// What passes on one SMTP connection, seen through nodemailer's transaction
// log: the transcript kept for failures (AF-20), the per-recipient RCPT
// replies (nodemailer only reports the refused ones), the EHLO reply (for
// SIZE), and a watchdog giving each step its own RFC 5321 4.5.3.2 timeout —
// nodemailer itself only has one inactivity timer for the whole session.
// The log never carries the message body (transactionLog without debug);
// AUTH arguments are replaced here, whatever nodemailer already masked.
import { format } from 'node:util';

/** What the client is waiting for. 'tls' is the handshake after "220" to STARTTLS, 'body' the message data being taken. */
export type Step =
  | 'connect' | 'greeting' | 'ehlo' | 'starttls' | 'tls' | 'auth' | 'rset'
  | 'mail' | 'rcpt' | 'data' | 'body' | 'dataEnd' | 'quit';

/** Milliseconds allowed per step. */
export interface StepTimeouts {
  connect: number;
  greeting: number;
  /** EHLO, STARTTLS and its handshake, AUTH, RSET, QUIT */
  command: number;
  mail: number;
  rcpt: number;
  /** DATA until the 354 */
  dataInit: number;
  /** each chunk of the message: restarted as long as the server keeps taking bytes */
  dataBlock: number;
  /** the final reply after the terminating dot */
  dataEnd: number;
}

/**
 * RFC 5321 4.5.3.2 "Timeouts": greeting 5 min, MAIL 5 min, RCPT 5 min, DATA
 * initiation 2 min, each data block 3 min, end of data 10 min; the other
 * commands 5 min; the TCP connect 30 s (Postfix's smtp_connect_timeout). The
 * defaults of `delivery.timeouts` (config/schema.ts).
 */
export const RFC5321_TIMEOUTS: StepTimeouts = {
  connect: 30_000, greeting: 300_000, command: 300_000,
  mail: 300_000, rcpt: 300_000, dataInit: 120_000, dataBlock: 180_000, dataEnd: 600_000,
};

export interface Reply {
  code: number;
  enhanced?: string;
  /** the reply as received, lines joined with "\n" */
  text: string;
}

/** The basic code (0 when the line has none) and the RFC 3463 enhanced code of a reply. */
export function parseReply(raw: string): Reply {
  const text = raw.replace(/\r?\n$/, '');
  const m = /^(\d{3})(?:[ -]([245]\.\d{1,3}\.\d{1,3})(?=\s|$))?/.exec(text);
  if (!m) return { code: 0, text };
  return m[2] ? { code: Number(m[1]), enhanced: m[2], text } : { code: Number(m[1]), text };
}

/** The SIZE limit in an EHLO reply; 0 when none is announced (or "SIZE" alone: no fixed limit). */
export function sizeLimit(ehloReply: string): number {
  const m = /^\d{3}[ -]SIZE[ \t]+(\d+)/im.exec(ehloReply);
  return m ? Number(m[1]) : 0;
}

export interface WireHooks {
  /** a step went past its timeout: the session must be ended */
  onTimeout(step: Step, ms: number): void;
  /** a "reply" without a reply code (or with one out of range): the session cannot be trusted any more */
  onGarbage(step: Step, text: string): void;
  /** bytes handed to the kernel so far, to tell a slow server from a stalled one while the body is sent */
  progress(): number;
  /** "TLSv1.3 TLS_AES_256_GCM_SHA384" once the handshake is done */
  tlsInfo(): string | undefined;
}

type Waiting = { step: Step; rcpt?: string };

export class Wire {
  private setupLines: string[] = [];
  private messageLines: string[] | undefined;
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inAuth = false;
  /** the step the latest reply answered: a failure that came with a reply happened there */
  lastAnswered: Step = 'connect';
  ehloReply = '';
  /** RCPT replies of the current message, in the order sent */
  rcpt: Array<{ address: string; reply: Reply }> = [];

  constructor(private readonly timeouts: StepTimeouts, private readonly hooks: WireHooks) {}

  /** the connection lines, then those of the current message */
  get transcript(): string[] {
    return [...this.setupLines, ...(this.messageLines ?? [])];
  }

  get waitingFor(): Step | undefined {
    return this.waiting[0]?.step;
  }

  /** Lines from here on belong to a message, not to the connection set-up. */
  startMessage(): void {
    this.messageLines = [];
    this.rcpt = [];
  }

  note(line: string): void {
    (this.messageLines ?? this.setupLines).push(`* ${line}`);
  }

  /** a reply (or event) the client now waits for, after those already awaited */
  expect(step: Step, rcpt?: string): void {
    this.waiting.push(rcpt === undefined ? { step } : { step, rcpt });
    if (this.waiting.length === 1) this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A bunyan-style logger for nodemailer's `logger` option (with `transactionLog: true`). */
  readonly logger = (() => {
    const log = (entry: { tnx?: string; localAddress?: string; localPort?: number }, message?: unknown, ...args: unknown[]) => {
      const text = args.length ? format(String(message), ...args) : String(message ?? '');
      if (entry.tnx === 'client') this.onCommand(text);
      else if (entry.tnx === 'server') this.onReply(text);
      else if (entry.tnx === 'network' && /established to/.test(text)) this.onConnected(entry, text);
      else if (entry.tnx === 'message' && this.waiting[0]?.step === 'body') this.onBodySent(text);
    };
    return { trace: log, debug: log, info: log, warn: () => {}, error: () => {}, fatal: () => {} };
  })();

  private push(line: string): void {
    (this.messageLines ?? this.setupLines).push(line);
  }

  private onConnected(entry: { localAddress?: string; localPort?: number }, text: string): void {
    const to = /established to (.*)$/.exec(text)?.[1] ?? '';
    this.note(`connected ${entry.localAddress ?? '?'}:${entry.localPort ?? '?'} -> ${to}`);
    this.answered();
    this.expect('greeting');
  }

  private onCommand(line: string): void {
    if (this.waiting[0]?.step === 'tls') {
      this.answered();
      this.note(`TLS ${this.hooks.tlsInfo() ?? 'established'}`);
    }
    const verb = /^[A-Za-z]+/.exec(line)?.[0].toUpperCase() ?? '';
    if (verb === 'AUTH') {
      // keep the mechanism, never its argument (PLAIN carries user and password)
      this.inAuth = true;
      this.push(`C: ${line.split(/\s+/).slice(0, 2).join(' ')}${/^\S+\s+\S+\s+\S/.test(line) ? ' <secret>' : ''}`);
      return this.expect('auth');
    }
    if (this.inAuth) {
      this.push('C: <secret>'); // an answer to a 334 challenge
      return this.expect('auth');
    }
    this.push(`C: ${line}`);
    const step = STEP_OF_VERB[verb];
    if (step === 'rcpt') return this.expect('rcpt', /<([^>]*)>/.exec(line)?.[1] ?? '');
    this.expect(step ?? 'quit');
  }

  private onReply(text: string): void {
    for (const line of text.split(/\r?\n/)) if (line) this.push(`S: ${line}`);
    // a reply while the body is still being handed over can only be the final one
    if (this.waiting[0]?.step === 'body') this.waiting.shift();
    const was = this.waiting.shift();
    if (!was) return this.arm(); // unsolicited, e.g. a 421 on an idle session
    this.lastAnswered = was.step;
    const reply = parseReply(text);
    // a code outside 2yz-5yz (RFC 5321 4.2.1: "999", "000") is no more a reply than a line without one:
    // kept, the session went on to a next message whose RSET the peer never answered (found by test/hardening/remote-faults)
    if (reply.code < 200 || reply.code > 599) {
      this.stop();
      return this.hooks.onGarbage(was.step, text);
    }
    if (was.step === 'ehlo') this.ehloReply = text;
    if (was.step === 'rcpt') this.rcpt.push({ address: was.rcpt ?? '', reply });
    if (was.step === 'auth' && reply.code !== 334) this.inAuth = false;
    // the steps that follow a positive reply without a command of ours
    if (was.step === 'starttls' && reply.code === 220) this.waiting.unshift({ step: 'tls' });
    if (was.step === 'data' && reply.code === 354) this.waiting.unshift({ step: 'body' });
    this.arm();
  }

  private onBodySent(text: string): void {
    const bytes = /<(\d+) bytes/.exec(text)?.[1];
    this.note(`message data: ${bytes ?? '?'} bytes`);
    this.waiting[0] = { step: 'dataEnd' };
    this.arm();
  }

  private answered(): void {
    const was = this.waiting.shift();
    if (was) this.lastAnswered = was.step;
    this.arm();
  }

  private arm(): void {
    this.stop();
    const head = this.waiting[0];
    if (!head) return;
    const ms = this.timeoutOf(head.step);
    let mark = this.hooks.progress();
    const fire = () => {
      if (head.step === 'body' && this.waiting[0] === head) {
        const now = this.hooks.progress();
        if (now !== mark) {
          mark = now;
          this.timer = setTimeout(fire, ms);
          return;
        }
      }
      this.timer = undefined;
      this.note(`timeout: no progress in ${ms} ms waiting for ${DESCRIBE[head.step]}`);
      this.hooks.onTimeout(head.step, ms);
    };
    this.timer = setTimeout(fire, ms);
  }

  private timeoutOf(step: Step): number {
    const t = this.timeouts;
    switch (step) {
      case 'connect': return t.connect;
      case 'greeting': return t.greeting;
      case 'mail': return t.mail;
      case 'rcpt': return t.rcpt;
      case 'data': return t.dataInit;
      case 'body': return t.dataBlock;
      case 'dataEnd': return t.dataEnd;
      default: return t.command;
    }
  }
}

const STEP_OF_VERB: Record<string, Step> = {
  EHLO: 'ehlo', HELO: 'ehlo', LHLO: 'ehlo', STARTTLS: 'starttls', RSET: 'rset',
  MAIL: 'mail', RCPT: 'rcpt', DATA: 'data', QUIT: 'quit',
};

export const DESCRIBE: Record<Step, string> = {
  connect: 'the TCP connection', greeting: 'the greeting', ehlo: 'the reply to EHLO',
  starttls: 'the reply to STARTTLS', tls: 'the TLS handshake', auth: 'the reply to AUTH',
  rset: 'the reply to RSET', mail: 'the reply to MAIL FROM', rcpt: 'the reply to RCPT TO',
  data: 'the reply to DATA', body: 'the server to take the message data',
  dataEnd: 'the reply to the end of the message', quit: 'the reply to QUIT',
};
