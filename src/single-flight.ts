// One load per key at a time: callers that ask while it runs share its
// promise. The MX router, the MTA-STS cache and the tenant controls each
// refresh a cached answer that a hundred recipients in flight may all find
// expired at once; without this each started its own lookup or queries.
// forget(key) lets the next caller start afresh, and the load it overtook
// no longer calls `keep` (its answer predates whatever forget announced).
export function singleFlight<V>() {
  const pending = new Map<string, Promise<V>>();
  return {
    run(key: string, load: () => Promise<V>, keep?: (value: V) => void): Promise<V> {
      const running = pending.get(key);
      if (running) return running;
      const mine: Promise<V> = load().then((value) => {
        if (pending.get(key) === mine) {
          pending.delete(key);
          keep?.(value);
        }
        return value;
      }, (err) => {
        if (pending.get(key) === mine) pending.delete(key);
        throw err;
      });
      pending.set(key, mine);
      return mine;
    },
    forget(key: string): void {
      pending.delete(key);
    },
  };
}
