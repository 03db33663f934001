// Spaces texts from one sender number so the provider's per-number queue never overflows (Twilio error 30001).
import { createKeyedQueue } from "../../src/transport/index.js";

export interface Pacer {
  /** Resolves when the next text from `sender` may leave. */
  take(sender: string): Promise<void>;
}

export function createPacer(perSecond: number): Pacer {
  const interval = 1_000 / perSecond;
  // Each sender's turns run one after another, and each waits from the previous one's real
  // departure: a timer that fires late then delays the texts after it instead of bunching them.
  // Times are read from the monotonic clock, in fractions of a millisecond: the wall clock set back
  // would hold a number's texts for as long as it went back, and whole milliseconds would make
  // every text of a burst at a high rate wait for a timer, one event-loop turn each.
  const turns = createKeyedQueue();
  const departed = new Map<string, number>();
  return {
    async take(sender) {
      await turns.run(sender, async () => {
        const last = departed.get(sender);
        const wait = last === undefined ? 0 : last + interval - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        departed.set(sender, performance.now());
      });
      // Forget senders idle for longer than the interval: their next text may leave at once anyway.
      setTimeout(() => {
        if ((departed.get(sender) ?? 0) + interval <= performance.now()) departed.delete(sender);
      }, interval + 1).unref();
    },
  };
}
