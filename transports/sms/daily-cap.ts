// How many texts each user may send per day (UTC): texts cost the operator money, and a stolen
// account must not become a spam cannon.
import { createKeyedQueue, type Table } from "../../src/transport/index.js";

export interface DailyCap {
  /** Null when `texts` more may leave today, else the sentence to refuse with. */
  refusal(user: string, texts: number): Promise<string | null>;
  /** Count texts that left. */
  count(user: string, texts: number): Promise<void>;
}

const KEEP_MS = 2 * 24 * 3_600_000;

export function createDailyCap(limit: number | undefined, table: Table<number>): DailyCap {
  const keyOf = (user: string): string => `${new Date().toISOString().slice(0, 10)} ${user}`;
  // One user's counts are updated one at a time: texts to several contacts leave in parallel.
  const turns = createKeyedQueue();
  return {
    async refusal(user, texts) {
      if (limit === undefined) return null;
      // In the user's turn, after the counts already under way: a count reads, then writes, and
      // a read between the two would miss the texts it is adding.
      return turns.run(user, async () => {
        const sent = (await table.get(keyOf(user))) ?? 0;
        if (sent + texts <= limit) return null;
        const left = Math.max(0, limit - sent);
        return `This gateway lets each user send ${limit} texts a day; you have ${left} left today and this message needs ${texts}. The count starts again at midnight UTC.`;
      });
    },
    count(user, texts) {
      if (limit === undefined) return Promise.resolve();
      return turns.run(user, async () => {
        const key = keyOf(user);
        await table.set(key, ((await table.get(key)) ?? 0) + texts, KEEP_MS);
      });
    },
  };
}
