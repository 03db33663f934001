// The durable outbox: a message from a user is stored in the ledger before its first send, retried
// with back-off across restarts while the transport says "temporary", and answered as an error when
// it says "permanent" or when retrying has gone on too long. One poller, on the ledger's index of
// due times, sends what falls due; there is no timer per message.
import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { TransportLedger } from "../../store/ledger/ledger.js";
import type { OutboundMessage, SendResult, Transport } from "../../transport/contract.js";
import { createKeyedQueue } from "../../transport/keyed-queue.js";
import type { Registrations } from "../state/registrations.js";
import type { Metrics } from "../../metrics.js";

export interface OutboxEntry {
  message: Omit<OutboundMessage, "sentAt"> & { sentAt: string };
  /** The full JID that sent it, for errors and receipts. */
  replyTo: string;
  contactJid: string;
  wantsReceipt: boolean;
  attempts: number;
  firstAttemptAt: number;
  nextAttemptAt: number;
  lastError?: string;
  /** An attempt got no answer: the network may have the message, so the next attempts are `uncertain`. */
  unanswered?: boolean;
}

export interface OutboxEvents {
  accepted(entry: OutboxEntry, providerId: string): Promise<void>;
  failed(entry: OutboxEntry, reason: string): Promise<void>;
}

export interface Outbox {
  /** Stores the message and starts sending it; false when its id was taken in before. */
  enqueue(entry: Omit<OutboxEntry, "attempts" | "firstAttemptAt" | "nextAttemptAt">): Promise<boolean>;
  /** Waiting, or sent within the last days: a client's resend of it is not sent again. */
  has(id: string): Promise<boolean>;
  /** Counts what an earlier run left and starts the poller. */
  resume(): Promise<number>;
  /** The ledger removed a user's rows: recount what waits. */
  recount(): Promise<void>;
  /** Waits (at most `timeoutMs`) for the user's messages being sent right now to finish. */
  settleUser(user: string, timeoutMs: number): Promise<void>;
  pending(): number;
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 15 * 60_000;
/** Ids of messages sent or given up are remembered this long, against resends. */
const REMEMBER_MS = 7 * 24 * 3_600_000;
const BATCH = 100;
/** Even with nothing due, the poller looks again this often: rows another instance wrote (a
 *  restarted instance handing over what its journal held) are taken within this time. */
const IDLE_POLL_MS = 5_000;
/** After the store failed to record an outcome, it is tried again this soon, then less often. */
const STORE_RETRY_MS = 1_000;
const MAX_RECORD_WAIT_MS = 60_000;
/** A row this instance claimed stays its own this long, renewed while it is being sent. Only an
 *  instance that stopped renewing (hung, or cut off from the database) loses its rows this way; a
 *  domain's new holder frees a dead holder's claims at once (outboxReleaseOthers). */
const CLAIM_MS = 5 * 60_000;
const RENEW_MS = 60_000;

/** Distinct provider codes counted under their own label, per transport; the rest count as "other". */
const MAX_CODES = 200;

export function createOutbox(options: {
  ledger: TransportLedger;
  transport: Transport;
  registrations: Registrations;
  log: Logger;
  retryForMs: number;
  events: OutboxEvents;
  /** First retry delay; doubles with each attempt. */
  retryBaseMs?: number;
  metrics: Metrics;
}): Outbox {
  const { ledger, transport, registrations, log, retryForMs, events, metrics } = options;
  const labels = { transport: transport.name };
  const count = (result: string): void => metrics.messages.inc({ ...labels, direction: "out", result });
  let waiting = 0;
  // A provider's code comes from outside: one that does not look like a code, or one past the first
  // MAX_CODES, does not get a time series of its own.
  const codes = new Set<string>();
  const codeLabel = (code: string): string => {
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(code) || (!codes.has(code) && codes.size >= MAX_CODES)) return "other";
    codes.add(code);
    return code;
  };
  const setWaiting = (value: number): void => {
    waiting = Math.max(0, value);
    metrics.outboxDepth.set(labels, waiting);
  };
  const retryBaseMs = options.retryBaseMs ?? 2_000;
  // One conversation's messages leave in the order they were written.
  const conversations = createKeyedQueue();
  /** Messages being sent right now, by id: the poller leaves them alone, unregistering waits for them. */
  const sending = new Map<string, { user: string; running: Promise<void> }>();
  /** This outbox's name on the rows it claims; new at each start of the process. */
  const owner = randomUUID();
  const claim = (now: number) => ({ owner, until: now + CLAIM_MS });
  let timer: NodeJS.Timeout | null = null;
  let renewer: NodeJS.Timeout | null = null;
  let polling: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  /** Set by resume(): this instance holds the domain and sends. */
  let running = false;

  /** Messages an earlier holder had claimed when this one took over: it may have sent them. */
  const uncertain = new Set<string>();
  /** Messages finished lately: a poll that read them before they finished must not send them again. */
  const finished = new LRUCache<string, true>({ max: 10_000, ttl: 60_000 });

  /** Rows the poller claimed while they were still being sent: their retry was written, and fell due,
   *  before its write was answered. Sent again when that send settles, or they would stay claimed by
   *  this instance, unsent, until the claim ran out. */
  const claimedWhileSending = new Map<string, OutboxEntry>();

  /** The send of `id` ended; true when a claim made meanwhile sends it again now. */
  const settled = (id: string): boolean => {
    sending.delete(id);
    const again = claimedWhileSending.get(id);
    claimedWhileSending.delete(id);
    if (again) dispatch(id, again);
    return again !== undefined;
  };

  const dispatch = (id: string, entry: OutboxEntry): void => {
    if (finished.has(id)) return;
    if (sending.has(id)) {
      claimedWhileSending.set(id, entry);
      return;
    }
    const user = entry.message.user;
    const running = conversations
      .run(`${user} ${entry.message.peer}`, () => send(entry))
      .then(
        (outcome) => {
          settled(id);
          // A finished message changes nothing due; a rescheduled one may be the next due.
          if (outcome === "rescheduled") wake();
        },
        (error: unknown) => {
          if (settled(id) || stopped) return;
          // The store failed (reading the sender, or rescheduling): the row is still there, claimed by
          // this instance, so the poller would not take it before the claim ran out. It is tried from
          // here, no sooner than its retry was due.
          const wait = Math.max(STORE_RETRY_MS, entry.nextAttemptAt - Date.now());
          log.error({ user, id, err: error, retryInMs: wait }, "the store failed while sending an outgoing message; it will be tried again");
          setTimeout(() => {
            if (!stopped) dispatch(id, entry);
          }, wait).unref();
        },
      );
    sending.set(id, { user, running });
  };

  /** One poller: sends what is due (indexed by due time), then sleeps until the next is due. */
  const wake = (): void => {
    if (stopped) return;
    if (polling) {
      again = true;
      return;
    }
    polling = poll()
      .catch((error: unknown) => log.error({ err: error }, "outbox poll failed; trying again shortly"))
      .finally(() => {
        polling = null;
        if (again) {
          again = false;
          wake();
        }
      });
  };

  const poll = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    const now = Date.now();
    const due = await ledger.outboxClaim<OutboxEntry>(now, BATCH, claim(now));
    for (const row of due) dispatch(row.id, row.entry);
    if (stopped) return;
    if (due.length === BATCH) {
      again = true;
      return;
    }
    const next = await ledger.outboxNextDue();
    // Rows due now are being sent (one rescheduled wakes the poller); otherwise sleep until the next.
    const wait = next === undefined || next <= now ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, next - now);
    timer = setTimeout(wake, wait);
    timer.unref();
  };

  const finish = async (entry: OutboxEntry): Promise<void> => {
    await ledger.outboxFinish(entry.message.id, entry.message.user, Date.now() + REMEMBER_MS);
    finished.set(entry.message.id, true);
    uncertain.delete(entry.message.id);
    setWaiting(waiting - 1);
  };

  /**
   * What the transport answered is known: record it, however long the store takes to come back.
   * Sending again because the bookkeeping failed would hand the message over twice. Until it is
   * recorded, the conversation waits; if the process dies meanwhile, the next run sends it again.
   */
  const recordOutcome = async (context: object, tell: () => Promise<void>, entry: OutboxEntry): Promise<void> => {
    let told = false;
    for (let attempt = 0; ; attempt += 1) {
      try {
        if (!told) await tell();
        told = true;
        await finish(entry);
        return;
      } catch (error) {
        if (stopped) throw error;
        const wait = Math.min(MAX_RECORD_WAIT_MS, STORE_RETRY_MS * 2 ** Math.min(attempt, 10));
        log.error({ ...context, err: error, retryInMs: wait }, "could not record an outgoing message's outcome; trying again (it is not sent again)");
        // In short steps, so that stopping the gateway does not wait a minute for it.
        for (let waited = 0; waited < wait && !stopped; waited += 250) await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };

  const send = async (entry: OutboxEntry): Promise<"finished" | "rescheduled" | "stopped"> => {
    if (stopped) return "stopped";
    const { message } = entry;
    const context = { user: message.user, id: message.id, attempt: entry.attempts + 1 };
    const registration = await registrations.get(message.user);
    if (!registration) {
      // Its sender left: nothing of theirs is kept, not even the id.
      await ledger.outboxRemove(message.id);
      finished.set(message.id, true);
      uncertain.delete(message.id);
      setWaiting(waiting - 1);
      log.info(context, "dropped an outgoing message: its sender is no longer registered");
      return "finished";
    }
    let result: SendResult;
    try {
      const unknownOutcome = (uncertain.has(message.id) || entry.unanswered) && { uncertain: true };
      result = await transport.send({ ...message, sentAt: new Date(message.sentAt), ...unknownOutcome }, registration.fields);
    } catch (error) {
      log.warn({ ...context, err: error }, "transport threw while sending; will retry");
      result = { kind: "temporary", reason: (error as Error).message || "the transport failed" };
    }
    entry.attempts += 1;
    if (result.kind !== "accepted" && result.providerCode !== undefined) metrics.providerErrors.inc({ ...labels, code: codeLabel(result.providerCode) });
    if (result.kind === "accepted") {
      log.debug({ ...context, providerId: result.providerId }, "message accepted by transport");
      metrics.deliveryLatency.observe({ ...labels, direction: "out" }, (Date.now() - entry.firstAttemptAt) / 1000);
      await recordOutcome(context, () => events.accepted(entry, result.providerId), entry);
      count("accepted");
      return "finished";
    }
    if (result.kind === "permanent") {
      log.info({ ...context, reason: result.reason }, "message refused by transport");
      await recordOutcome(context, () => events.failed(entry, result.reason), entry);
      count("refused");
      return "finished";
    }
    const now = Date.now();
    if (now - entry.firstAttemptAt >= retryForMs) {
      const hours = Math.round((now - entry.firstAttemptAt) / 360_000) / 10;
      const reason = `Not sent after ${entry.attempts} attempts over ${hours} hours. Last problem: ${result.reason}`;
      log.warn({ ...context, reason }, "gave up on an outgoing message");
      await recordOutcome(context, () => events.failed(entry, reason), entry);
      count("failed");
      return "finished";
    }
    metrics.retries.inc(labels);
    const backoff = Math.min(MAX_BACKOFF_MS, retryBaseMs * 2 ** Math.min(entry.attempts - 1, 20));
    entry.nextAttemptAt = now + Math.max(result.retryAfterMs ?? 0, backoff);
    entry.lastError = result.reason;
    if (result.unanswered) entry.unanswered = true;
    await ledger.outboxReschedule(message.id, entry.nextAttemptAt, entry);
    log.info({ ...context, reason: result.reason, retryInMs: entry.nextAttemptAt - now }, "message will be retried");
    return "rescheduled";
  };

  return {
    async enqueue(partial) {
      const now = Date.now();
      const entry: OutboxEntry = { ...partial, attempts: 0, firstAttemptAt: now, nextAttemptAt: now };
      // Before resume() this instance does not hold the domain (it hands over what its journal
      // held): the row is left unclaimed for the holder's poller, and nothing is sent from here.
      const owned = running ? claim(now) : { owner, until: 0 };
      if (!(await ledger.outboxAdd(entry.message.id, entry.message.user, entry.message.peer, now, entry, now, owned))) return false;
      setWaiting(waiting + 1);
      // Sent at once, in the order written; the poller is for retries and what a restart left.
      if (running && !stopped) dispatch(entry.message.id, entry);
      return true;
    },
    has(id) {
      return ledger.outboxHas(id, Date.now());
    },
    async resume() {
      running = true;
      // This instance now holds the domain, so whoever claimed rows before it (an earlier run of this
      // process, or an instance that died) is no longer sending them.
      const freed = await ledger.outboxReleaseOthers(owner);
      for (const id of freed) uncertain.add(id);
      if (freed.length > 0)
        log.info({ freed: freed.length }, "took over outgoing messages an earlier holder had claimed; the transport checks before sending them again");
      const left = await ledger.outboxCount();
      setWaiting(left);
      renewer ??= setInterval(() => {
        const ids = [...sending.keys()];
        if (ids.length > 0)
          ledger.outboxRenew(ids, claim(Date.now())).catch((error: unknown) => log.warn({ err: error }, "could not renew the claim on messages being sent"));
      }, RENEW_MS);
      renewer.unref();
      wake();
      return left;
    },
    async recount() {
      setWaiting(await ledger.outboxCount());
    },
    async settleUser(user, timeoutMs) {
      const running = [...sending.values()].filter((item) => item.user === user).map((item) => item.running);
      await Promise.race([Promise.allSettled(running), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    },
    pending() {
      return waiting;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (renewer) clearInterval(renewer);
      renewer = null;
      await polling;
      await conversations.idle();
    },
  };
}
