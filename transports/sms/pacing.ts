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
  const turns = createKeyedQueue();
  const departed = new Map<string, number>();
  return {
    async take(sender) {
      await turns.run(sender, async () => {
        const wait = (departed.get(sender) ?? 0) + interval - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        departed.set(sender, Date.now());
      });
      // Forget senders idle for longer than the interval: their next text may leave at once anyway.
      setTimeout(() => {
        if ((departed.get(sender) ?? 0) + interval <= Date.now()) departed.delete(sender);
      }, interval + 1).unref();
    },
  };
}
