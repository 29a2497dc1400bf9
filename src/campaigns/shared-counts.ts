// A count that many readers poll (a campaign's progress), shared while it is costly.
const CHEAP_MS = 20;

/**
 * Progress is read by every poll of the sending view and of API clients, and
 * counting a million recipients takes a good part of a second (on SQLite,
 * with the process waiting). A count that took long serves every reader for
 * ten times as long, and readers arriving while it runs share it, so the
 * counting stays under a tenth of the time however many clients poll. A
 * cheap count (a small campaign) is never reused: it is always current.
 */
export function sharedCounts<T>(count: (key: string) => Promise<T>) {
  // real time, not the injected clock: what is kept is bounded by what counting costs
  const kept = new Map<string, { value: Promise<T>; until: number }>();
  return {
    read(key: string): Promise<T> {
      const now = performance.now();
      const hit = kept.get(key);
      if (hit && now < hit.until) return hit.value;
      const t0 = performance.now();
      const value = count(key);
      const entry = { value, until: Number.POSITIVE_INFINITY };
      kept.set(key, entry);
      value.then(() => {
        const took = performance.now() - t0;
        if (took >= CHEAP_MS) entry.until = performance.now() + 10 * took;
        else if (kept.get(key) === entry) kept.delete(key);
      }, () => {
        if (kept.get(key) === entry) kept.delete(key);
      });
      if (kept.size > 1_000) kept.delete(kept.keys().next().value!);
      return value;
    },
  };
}
