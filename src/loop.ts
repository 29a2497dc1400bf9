// A background loop: runs `pass` every `everyMs`; at once again while it
// reports work done, or when poked during a pass (work arrived meanwhile);
// never two passes at a time. Errors are logged and the loop goes on.
// stop() waits for the pass in progress.
import type { Logger } from 'pino';

export function startLoop(name: string, everyMs: number, logger: Logger, pass: () => Promise<boolean>) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let poked = false;

  const tick = (): void => {
    if (stopped) return;
    if (running) {
      poked = true;
      return;
    }
    clearTimeout(timer);
    poked = false;
    let again = false;
    running = pass()
      .then((worked) => { again = worked; })
      .catch((err) => logger.error({ err }, `${name}: pass failed; retrying`))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, again || poked ? 0 : everyMs);
      });
  };
  tick();
  return {
    poke: tick,
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
