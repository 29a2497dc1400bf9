// The public pages' bodies: the subscription form (hosted and as a snippet),
// the answers to a sign-up, and the confirmation pages. Plain HTML that works
// and reads without JavaScript or CSS; every value goes through the escaping
// tag. The consent box is its own control with the list's exact words as its
// label and nothing else beside it (MJ-5), never pre-checked, not even when
// the form is shown again after an error; the From address the subscriber
// will hear from is stated before they sign up (AF-14).
import { html, raw, type Html } from './html.ts';

/** What a form shows of a list: nothing a visitor could not see on the page anyway. */
export interface FormView {
  listId: string;
  name: string;
  description: string;
  fromName: string;
  fromAddress: string;
  optIn: 'double' | 'single';
  /** the consent words of the version the token names */
  consentText: string;
}

export interface FormState {
  email?: string;
  firstName?: string;
  error?: string;
}

const STYLE = `body{font-family:system-ui,sans-serif;line-height:1.5;max-width:38rem;margin:2rem auto;padding:0 1rem;color:#111}
input[type=email],input[type=text]{width:100%;max-width:24rem;padding:.4rem;font-size:1rem}
fieldset{border:1px solid #999;padding:.5rem 1rem}button{font-size:1rem;padding:.5rem 1rem}
.error{color:#a00;font-weight:bold}dt{font-weight:bold;margin-top:.5rem}dd{margin-left:1rem}
table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2rem .5rem;text-align:left;vertical-align:top}
@media print{body{margin:0;max-width:none}a{color:inherit}}`;

/** A whole document; the style is inline (the CSP allows inline styles and nothing else). */
export function page(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`.toString();
}

const fromLine = (v: Pick<FormView, 'fromName' | 'fromAddress'>) => `${v.fromName} <${v.fromAddress}>`;

/** What the subscriber will receive and from whom: shown before they give consent (AF-14). */
function intro(v: FormView): Html {
  return html`<p>You will receive the emails of the list <strong>${v.name}</strong> from ${v.fromName}.${v.description ? html` ${v.description}` : ''}</p>
<p>They will come from <strong>${fromLine(v)}</strong>. Add this address to your address book so they reach your inbox.</p>
${v.optIn === 'double' ? html`<p>We will first send you an email with a link to confirm your address. Nothing else is sent before you confirm.</p>\n` : ''}<p>You can unsubscribe at any time with the link in every email.</p>`;
}

/**
 * The form itself, shared by the hosted page and the snippet. `idPrefix`
 * keeps the ids unique on a sender's page that may hold other forms.
 */
export function formBody(v: FormView, o: { action: string; token: string; idPrefix: string; state?: FormState }): Html {
  const id = (n: string) => `${o.idPrefix}${n}`;
  const s = o.state ?? {};
  return html`<form method="post" action="${o.action}" accept-charset="UTF-8">
${intro(v)}
${s.error ? html`<p class="error" role="alert">${s.error}</p>\n` : ''}<input type="hidden" name="token" value="${o.token}">
<p><label for="${id('email')}">Email address</label><br>
<input type="email" id="${id('email')}" name="email" required maxlength="254" autocomplete="email" value="${s.email ?? ''}"></p>
<p><label for="${id('first-name')}">First name (optional)</label><br>
<input type="text" id="${id('first-name')}" name="first_name" maxlength="100" autocomplete="given-name" value="${s.firstName ?? ''}"></p>
<fieldset>
<legend>Your consent</legend>
<p><input type="checkbox" id="${id('consent')}" name="consent" value="yes" required>
<label for="${id('consent')}">${v.consentText}</label></p>
</fieldset>
<div hidden><label for="${id('website')}">Leave this field empty</label>
<input type="text" id="${id('website')}" name="website" value="" tabindex="-1" autocomplete="off"></div>
<p><button type="submit">Subscribe</button></p>
</form>`;
}

export function formPage(v: FormView, token: string, state?: FormState): string {
  return page(`Subscribe: ${v.name}`, html`<h1>Subscribe to ${v.name}</h1>
${formBody(v, { action: `/f/${v.listId}`, token, idPrefix: '', state })}`);
}

/** The snippet a sender pastes into their own site: the form alone, posting to envoi. */
export function formSnippet(v: FormView, action: string, token: string): string {
  return html`<!-- envoi subscription form for the list ${v.name}; the token in it is valid for a year -->
${formBody(v, { action, token, idPrefix: `envoi-${v.listId}-` })}
`.toString();
}

const notice = (title: string, body: Html) => page(title, html`<h1>${title}</h1>\n${body}`);

/** The one answer to every accepted-looking sign-up of a double opt-in list: it tells nothing about the address. */
export function checkInboxPage(v: Pick<FormView, 'name' | 'fromName' | 'fromAddress'>, ttlHours: number): string {
  return notice('Check your inbox', html`<p>Thank you. If this address can be subscribed to <strong>${v.name}</strong>, we have sent it an email with a link to confirm.</p>
<p>Look for an email from <strong>${fromLine(v)}</strong>, in your spam folder too. The link works for ${ttlHours % 24 === 0 ? `${ttlHours / 24} days` : `${ttlHours} hours`}. Nothing is sent to you before you confirm.</p>`);
}

/** The answer of a single opt-in list, the same whether the address was new or subscribed already. */
export function subscribedPage(v: Pick<FormView, 'name' | 'fromName' | 'fromAddress'>): string {
  return notice('Thank you', html`<p>You are subscribed to <strong>${v.name}</strong>.</p>
<p>The emails will come from <strong>${fromLine(v)}</strong>. Add this address to your address book so they reach your inbox.</p>`);
}

export function confirmAskPage(v: Pick<FormView, 'name' | 'fromName' | 'fromAddress'>, action: string): string {
  return notice('Confirm your subscription', html`<p>Please confirm that you want to receive <strong>${v.name}</strong> from <strong>${fromLine(v)}</strong>.</p>
<form method="post" action="${action}"><p><button type="submit">Yes, confirm my subscription</button></p></form>
<p>If you did not ask for this, close this page: you will not be subscribed.</p>`);
}

export function confirmedPage(v: Pick<FormView, 'name' | 'fromName' | 'fromAddress'>, already: boolean): string {
  return notice(already ? 'Already confirmed' : 'Subscription confirmed', html`<p>${already
    ? html`Your subscription to <strong>${v.name}</strong> was already confirmed. Nothing has changed.`
    : html`Your subscription to <strong>${v.name}</strong> is confirmed. Thank you.`}</p>
<p>The emails will come from <strong>${fromLine(v)}</strong>. Add this address to your address book so they reach your inbox.</p>`);
}

export type LinkProblem = 'invalid' | 'expired' | 'superseded' | 'unsubscribed' | 'closed';

const LINK_PROBLEMS: Record<LinkProblem, [string, string]> = {
  invalid: ['This link is not valid', 'The link is incomplete or was altered. Open it again from the email, or copy the whole link into your browser.'],
  expired: ['This link has expired', 'Confirmation links work for a limited time. Sign up again on the form you used, and confirm with the new link.'],
  superseded: ['This link was replaced', 'A newer sign-up sent a newer link. Use the link in the latest email.'],
  unsubscribed: ['No longer subscribed', 'This address unsubscribed after this link was sent. Sign up again to subscribe.'],
  closed: ['This list is closed', 'The sender no longer runs this list, so there is nothing to confirm.'],
};

export function linkProblemPage(p: LinkProblem): string {
  const [title, text] = LINK_PROBLEMS[p];
  return notice(title, html`<p>${text}</p><p>Nothing has changed.</p>`);
}

export function notFoundPage(): string {
  return notice('Form not found', html`<p>This subscription form does not exist or is no longer open.</p>`);
}

export function rateLimitedPage(retryAfterSeconds: number): string {
  return notice('Too many attempts', html`<p>Too many sign-ups came from your network in a short time. Please try again in ${retryAfterSeconds} seconds.</p>`);
}

export function errorPage(): string {
  return notice('Something went wrong', html`<p>The request could not be carried out. Nothing has changed. Please try again later.</p>`);
}
