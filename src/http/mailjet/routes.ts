// The Mailjet-compatible Send API: POST /v3.1/send with HTTP Basic auth (API
// key as user, secret as password). Everything a client sees (errors too) is
// in Mailjet's shapes, so node-mailjet and the other official clients work
// unchanged; translate.ts holds the pure translation, this file the IO.
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, type Failure, type Result } from '../../errors.ts';
import type { OutgoingMessage, SendReceipt } from '../../compose/types.ts';
import {
  buildSendResponse,
  messageErrorFromFailure,
  parseBasicAuth,
  parseSendRequest,
  requestErrorFromFailure,
  sandboxReceipt,
  type MailjetMessageError,
} from './translate.ts';

export interface Principal {
  tenantId: string;
  keyId: string;
}

export interface MailjetDeps {
  authenticate(user: string, pass: string): Promise<Result<Principal>>;
  send(principal: Principal, msg: OutgoingMessage): Promise<Result<SendReceipt>>;
  /**
   * Optional: every check `send` makes, without sending. With it, SandboxMode
   * reports what the send service would refuse (an unverified From domain…),
   * as Mailjet's sandbox does; without it, sandbox checks the payload only.
   */
  check?(principal: Principal, msg: OutgoingMessage): Promise<Result<void>>;
  /** public base URL of the API (https://host[:port]), for MessageHref */
  baseUrl: string;
}

export function mailjetRoutes(deps: MailjetDeps): FastifyPluginAsync {
  return async (app) => {
    const principals = new WeakMap<FastifyRequest, Principal>();

    // Body parsing errors happen before the handler: answer them in Mailjet's shape too.
    app.setErrorHandler((err: FastifyError, req, reply) => {
      const f = parsingFailure(err);
      if (f.code === 'internal') req.log.error({ err }, 'mailjet send failed');
      return sendRequestError(reply, f);
    });

    // onRequest runs before the body is read: a caller without valid
    // credentials gets 401 even for a malformed or oversized body, and costs
    // no parsing.
    const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
      const creds = parseBasicAuth(req.headers.authorization);
      const r: Result<Principal> = creds
        ? await deps.authenticate(creds.user, creds.pass)
        : { ok: false, error: { code: 'auth.required', detail: 'HTTP Basic authentication with the API key and secret is required' } };
      if (r.ok) {
        principals.set(req, r.value);
        return;
      }
      // RFC 9110: a 401 names the scheme to use (an outage answers 503 instead).
      if (ERRORS[r.error.code].status === 401) reply.header('www-authenticate', 'Basic realm="envoi", charset="UTF-8"');
      return sendRequestError(reply, r.error);
    };

    app.post('/v3.1/send', { onRequest: authenticate }, async (req, reply) => {
      const principal = principals.get(req);
      if (!principal) throw new Error('onRequest authentication did not run');
      const parsed = parseSendRequest(req.body);
      if ('requestError' in parsed) return reply.code(parsed.requestError.StatusCode).send(parsed.requestError);

      // One by one, in order: a failing message never stops the others.
      const results: Array<Result<SendReceipt> | MailjetMessageError> = [];
      for (const m of parsed.messages) {
        if (!m.ok) results.push(m);
        else if (parsed.sandboxMode) results.push(await sandboxed(principal, m.value, req));
        else results.push(await sendOne(principal, m.value, req));
      }
      const customIds = parsed.messages.map((m) => (m.ok ? m.value.customId : undefined));
      const res = buildSendResponse(results, { baseUrl: deps.baseUrl, customIds });
      return reply.code(res.status).send(res.body);
    });

    async function sendOne(p: Principal, msg: OutgoingMessage, req: FastifyRequest) {
      const r = await guarded(() => deps.send(p, msg), req);
      return r.ok ? r : messageErrorFromFailure(r.error, msg);
    }

    async function sandboxed(p: Principal, msg: OutgoingMessage, req: FastifyRequest) {
      const r = deps.check ? await guarded(() => deps.check!(p, msg), req) : undefined;
      if (r && !r.ok) return messageErrorFromFailure(r.error, msg);
      return { ok: true as const, value: sandboxReceipt(msg) };
    }
  };
}

// An exception from the service is a bug or an outage; it becomes this
// message's error so that the messages before and after it still go out.
async function guarded<T>(call: () => Promise<Result<T>>, req: FastifyRequest): Promise<Result<T>> {
  try {
    return await call();
  } catch (err) {
    req.log.error({ err }, 'mailjet send: message failed');
    return { ok: false, error: { code: 'internal', detail: 'internal error; this message was not sent' } };
  }
}

function sendRequestError(reply: FastifyReply, f: Failure) {
  const body = requestErrorFromFailure(f);
  return reply.code(body.StatusCode).type('application/json').send(body);
}

function parsingFailure(err: FastifyError): Failure {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'message.too_large', detail: 'The request body is larger than this server accepts.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'request.unsupported_media_type', detail: 'Send the payload as application/json.' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'request.malformed', detail: 'Malformed JSON: check the syntax of the payload.' };
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
    return { code: 'request.malformed', detail: 'Malformed JSON: check the syntax of the payload.' };
  }
  if (err.statusCode && err.statusCode < 500) return { code: 'request.invalid', detail: err.message };
  return { code: 'internal', detail: 'Internal error: the request was not carried out.' };
}
