// Spaces texts from one sender number so Twilio's per-number queue never overflows (error 30001).

export interface Pacer {
  /** Resolves when the next text from `sender` may leave. */
  take(sender: string): Promise<void>;
}

export function createPacer(perSecond: number): Pacer {
  const interval = 1_000 / perSecond;
  const nextFree = new Map<string, number>();
  return {
    async take(sender) {
      const now = Date.now();
      const slot = Math.max(now, nextFree.get(sender) ?? 0);
      nextFree.set(sender, slot + interval);
      // Forget idle senders so the map does not grow with every number ever used.
      if (nextFree.size > 10_000) for (const [key, at] of nextFree) if (at < now) nextFree.delete(key);
      if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
    },
  };
}
