// Time is passed in, never read from a global, so policy that depends on it
// (quiet hours, warm-up, windows) can be tested with an injected clock.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
