// The shared limits of the delivery engine, behind one narrow interface
// (STYLE 11): connection slots, message rates, holds (slowdowns and pauses
// after a provider's reply, GM-11) and daily budgets (warm-up, GM-13). In
// process for a single envoi; in Redis when a URL is configured, so every
// worker on every machine counts against the same caps (KumoMTA does the
// same). Times come from the injected clock: the workers of a cluster are
// expected to keep their clocks in sync (NTP), as leases already require.
import type { Clock } from '../../clock.ts';
import type { Limiter } from './types.ts';
import { createMemoryLimiter } from './memory.ts';
import { createRedisLimiter } from './redis.ts';

export type { Limiter, Slot } from './types.ts';
export { createMemoryLimiter, createRedisLimiter };

/** Redis when a URL is configured, in process otherwise. */
export function createLimiter(redisUrl: string | undefined, clock: Clock, prefix?: string): Limiter {
  return redisUrl ? createRedisLimiter(redisUrl, clock, prefix) : createMemoryLimiter(clock);
}
