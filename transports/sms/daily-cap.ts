// How many texts each user may send per day (UTC): texts cost the operator money, and a stolen
// account must not become a spam cannon.
import { createKeyedQueue, type Table } from "../../src/transport/index.js";

export interface DailyCap {
  /**
   * Holds `texts` of today's allowance for a message about to leave; null when they were free, else
   * the sentence to refuse with. Texts held count against the allowance until counted or released:
   * a user's messages to several contacts leave in parallel, and each must see the others' texts.
   */
  hold(user: string, texts: number): Promise<string | null>;
  /** Counts texts that left, out of those held. */
  count(user: string, texts: number): Promise<void>;
  /** Gives back held texts that did not leave. */
  release(user: string, texts: number): void;
}

const KEEP_MS = 2 * 24 * 3_600_000;

export function createDailyCap(limit: number | undefined, table: Table<number>): DailyCap {
  const keyOf = (user: string): string => `${new Date().toISOString().slice(0, 10)} ${user}`;
  // One user's counts are updated one at a time: a count reads, then writes, and a read between
  // the two would miss the texts it is adding.
  const turns = createKeyedQueue();
  /** Texts held by messages being sent, per user. In memory: the one instance that holds a domain
   *  sends all of its texts (docs/scaling.md). */
  const held = new Map<string, number>();
  const giveBack = (user: string, texts: number): void => {
    const left = (held.get(user) ?? 0) - texts;
    if (left > 0) held.set(user, left);
    else held.delete(user);
  };
  return {
    async hold(user, texts) {
      if (limit === undefined) return null;
      return turns.run(user, async () => {
        const taken = ((await table.get(keyOf(user))) ?? 0) + (held.get(user) ?? 0);
        if (taken + texts <= limit) {
          held.set(user, (held.get(user) ?? 0) + texts);
          return null;
        }
        const left = Math.max(0, limit - taken);
        return `This gateway lets each user send ${limit} texts a day; you have ${left} left today and this message needs ${texts}. The count starts again at midnight UTC.`;
      });
    },
    count(user, texts) {
      if (limit === undefined) return Promise.resolve();
      return turns.run(user, async () => {
        const key = keyOf(user);
        try {
          await table.set(key, ((await table.get(key)) ?? 0) + texts, KEEP_MS);
        } finally {
          // Only once on record do they stop counting as held (or the count failed: then they are
          // not held for ever either).
          giveBack(user, texts);
        }
      });
    },
    release(user, texts) {
      if (limit !== undefined && texts > 0) giveBack(user, texts);
    },
  };
}
