// Delivery news from status callbacks, turned into one status per gateway message: a message split
// into several texts is delivered when all of them are, and failed when any one fails.
import type { Logger } from "pino";
import type { Table } from "../../src/transport/index.js";
import type { DeliveryStatus } from "../../src/transport/contract.js";
import type { SmsProvider, StatusUpdate } from "./provider.js";

export interface SentPart {
  /** The provider id the core knows the whole message by (its first text's). */
  primary: string;
  index: number;
  total: number;
  /** False while later texts of the message are still being sent. */
  complete: boolean;
  sentAt: number;
  /** The gateway's id of the message the text belongs to (absent in records written by 0.1.0). */
  message?: string;
}

interface Progress {
  delivered: string[];
  finished: boolean;
}

interface PendingStatus {
  update: StatusUpdate;
  receivedAt: number;
}

const KEEP_MS = 14 * 24 * 3_600_000;
/** How many grace periods a status waits for the rest of its message to be sent. */
const MAX_CHECKS = 600;
/** After a failed store read a status is tried again, waiting twice as long each time up to the maximum. */
const STORE_RETRY_MS = 1_000;
const MAX_STORE_RETRY_MS = 60_000;

export interface StatusTracker {
  /** Remember each text of a message as it leaves, before the core learns the message's provider id. */
  partSent(primary: string, index: number, total: number, id: string, message: string): Promise<void>;
  /** What is on record of a text the provider has, by its provider id. */
  partOf(id: string): Promise<SentPart | undefined>;
  /** All texts of the message left (or it was given up): statuses may now be reported. */
  complete(ids: string[]): Promise<void>;
  /** Kept before the webhook is answered; reported once the send's bookkeeping surely finished. */
  receive(update: StatusUpdate): Promise<void>;
  /** Report what an earlier run received but had not reported. */
  resume(): Promise<number>;
  stop(): void;
}

export function createStatusTracker(options: {
  parts: Table<SentPart>;
  progress: Table<Progress>;
  pending: Table<PendingStatus>;
  report(providerId: string, status: DeliveryStatus): Promise<void>;
  provider: Pick<SmsProvider, "displayName" | "describeError">;
  graceMs: number;
  log: Logger;
}): StatusTracker {
  const { parts, progress, pending, log, graceMs } = options;
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const later = (run: () => void, ms: number): void => {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };
  // Statuses for the texts of one message update one progress record: apply them one at a time.
  let chain: Promise<unknown> = Promise.resolve();

  const apply = async (update: StatusUpdate): Promise<void> => {
    const part = await parts.get(update.id);
    const primary = part?.primary ?? update.id;
    const total = part?.total ?? 1;
    const state = (await progress.get(primary)) ?? { delivered: [], finished: false };
    if (state.finished) return;
    // The user is told before the message is recorded as finished: if the telling fails, the status
    // is applied again (a second receipt is harmless; a lost one is not).
    if (update.state === "failed") {
      const which = part && total > 1 ? `Part ${part.index + 1} of ${total} was not delivered. ` : "";
      const why =
        update.errorCode !== undefined
          ? options.provider.describeError(update.errorCode)
          : `${options.provider.displayName} reports the text as ${update.detail || "failed"} and gives no reason.`;
      await options.report(primary, { state: "failed", reason: `${which}${why}` });
      await progress.set(primary, { ...state, finished: true }, KEEP_MS);
      return;
    }
    if (!state.delivered.includes(update.id)) state.delivered.push(update.id);
    state.finished = state.delivered.length >= total;
    if (state.finished) await options.report(primary, { state: "delivered" });
    await progress.set(primary, state, KEEP_MS);
  };

  const schedule = async (key: string, entry: PendingStatus, checks = 0, failures = 0): Promise<void> => {
    let part: SentPart | undefined;
    try {
      part = await parts.get(entry.update.id);
    } catch (error) {
      // The provider was answered and the status is kept only in `pending`: unless it is tried again
      // here, the user hears of it (receipt or failure) at the next start, which may be days away.
      const retryMs = Math.min(STORE_RETRY_MS * 2 ** failures, MAX_STORE_RETRY_MS);
      log.warn({ err: error, providerId: entry.update.id, retryMs }, "could not read the record of a sent text; will try its delivery status again");
      later(() => void schedule(key, entry, checks, failures + 1), retryMs);
      return;
    }
    // The core records a provider id only after send() returns, which for a long message is after
    // its last text left: a status that outran that waits, re-checking, for a bounded time.
    // A status for a text not yet on record may have outrun even our own write: re-check a few times.
    const waiting = part === undefined ? checks < 3 : !part.complete && checks < MAX_CHECKS;
    const wait = waiting ? Math.max(graceMs, 100) : part ? Math.max(0, part.sentAt + graceMs - Date.now()) : 0;
    if (wait === 0) {
      const applied = chain.then(() => apply(entry.update));
      chain = applied.catch(() => undefined);
      try {
        await applied;
        await pending.delete(key);
      } catch (error) {
        // Still in `pending`: tried again here, and at the next start if this process stops first.
        const retryMs = Math.min(STORE_RETRY_MS * 2 ** failures, MAX_STORE_RETRY_MS);
        log.warn({ err: error, providerId: entry.update.id, retryMs }, "could not apply a delivery status; will try again");
        later(() => void schedule(key, entry, checks, failures + 1), retryMs);
      }
      return;
    }
    later(() => void schedule(key, entry, checks + 1), wait);
  };

  return {
    async partSent(primary, index, total, id, message) {
      // A message of one text is complete once that text left: no second write for it.
      await parts.set(id, { primary, index, total, complete: total === 1, sentAt: Date.now(), message }, KEEP_MS);
    },
    partOf(id) {
      return parts.get(id);
    },
    async complete(ids) {
      const sentAt = Date.now();
      for (const id of ids) {
        const part = await parts.get(id);
        if (part) await parts.set(id, { ...part, complete: true, sentAt }, KEEP_MS);
      }
    },
    async receive(update) {
      if (update.state === "progress") return;
      const key = `${update.id}:${update.state}`;
      const entry = { update, receivedAt: Date.now() };
      await pending.set(key, entry, KEEP_MS);
      void schedule(key, entry);
    },
    async resume() {
      let count = 0;
      for await (const [key, entry] of pending.entries()) {
        count += 1;
        void schedule(key, entry);
      }
      return count;
    },
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
