// The mailbox simulator (like Amazon SES's): recipients on a reserved
// domain behave as their name says, so a new user can watch the whole loop —
// delivery, bounces, complaints, auto-replies, a provider enforcing Gmail's
// rules — without DNS or a public IP. `+label` parts are allowed
// (bounce+test1@…) so one behaviour can be tried on many addresses. Pure.

/** Reserved: `.test` is never a real top-level domain (RFC 2606). */
export const SIMULATOR_DOMAIN = 'simulator.envoi.test';

export type Behaviour = 'delivered' | 'bounce' | 'bounce-async' | 'softbounce' | 'complaint' | 'autoreply' | 'gmail-strict';

const BEHAVIOURS = new Set<Behaviour>(['delivered', 'bounce', 'bounce-async', 'softbounce', 'complaint', 'autoreply', 'gmail-strict']);

/** The behaviour of a simulator address; null when the address is not on the simulator domain. Unknown names are delivered. */
export function simulatorBehaviour(address: string): Behaviour | null {
  const at = address.lastIndexOf('@');
  if (at < 0 || address.slice(at + 1).toLowerCase() !== SIMULATOR_DOMAIN) return null;
  const name = address.slice(0, at).toLowerCase().split('+')[0] as Behaviour;
  return BEHAVIOURS.has(name) ? name : 'delivered';
}
