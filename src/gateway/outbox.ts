// The durable outbox: a message from a user is stored before its first send, retried with back-off
// across restarts while the transport says "temporary", and answered as an error when it says
// "permanent" or when retrying has gone on too long.
import type { Logger } from "pino";
import type { Table } from "../store/store.js";
import type { OutboundMessage, SendResult, Transport } from "../transport/contract.js";
import type { BareJid } from "../xmpp/jid.js";
import { createKeyedQueue } from "./keyed-queue.js";
import type { Registrations } from "./registrations.js";
import type { Metrics } from "../metrics.js";

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
}

export interface OutboxEvents {
  accepted(entry: OutboxEntry, providerId: string): Promise<void>;
  failed(entry: OutboxEntry, reason: string): Promise<void>;
}

export interface Outbox {
  enqueue(entry: Omit<OutboxEntry, "attempts" | "firstAttemptAt" | "nextAttemptAt">): Promise<void>;
  has(id: string): Promise<boolean>;
  /** Schedule everything left from an earlier run. */
  resume(): Promise<number>;
  dropUser(user: BareJid): Promise<void>;
  pending(): number;
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 15 * 60_000;

export function createOutbox(options: {
  table: Table<OutboxEntry>;
  transport: Transport;
  registrations: Registrations;
  log: Logger;
  retryForMs: number;
  events: OutboxEvents;
  /** First retry delay; doubles with each attempt. */
  retryBaseMs?: number;
  metrics: Metrics;
}): Outbox {
  const { table, transport, registrations, log, retryForMs, events, metrics } = options;
  const labels = { transport: transport.name };
  const count = (result: string): void => metrics.messages.inc({ ...labels, direction: "out", result });
  let waiting = 0;
  const setWaiting = (delta: number): void => {
    waiting = Math.max(0, waiting + delta);
    metrics.outboxDepth.set(labels, waiting);
  };
  const retryBaseMs = options.retryBaseMs ?? 2_000;
  const timers = new Map<string, NodeJS.Timeout>();
  // One conversation's messages leave in the order they were written.
  const conversations = createKeyedQueue();
  let stopped = false;

  const schedule = (entry: OutboxEntry): void => {
    const id = entry.message.id;
    clearTimeout(timers.get(id));
    const wait = Math.max(0, entry.nextAttemptAt - Date.now());
    const attempt = (): void => {
      timers.delete(id);
      void conversations.run(`${entry.message.user} ${entry.message.peer}`, () => send(entry));
    };
    if (wait === 0) attempt();
    else timers.set(id, setTimeout(attempt, wait));
  };

  const send = async (entry: OutboxEntry): Promise<void> => {
    if (stopped) return;
    const { message } = entry;
    const context = { user: message.user, id: message.id, attempt: entry.attempts + 1 };
    const registration = await registrations.get(message.user);
    if (!registration) {
      await table.delete(message.id);
      setWaiting(-1);
      log.info(context, "dropped an outgoing message: its sender is no longer registered");
      return;
    }
    let result: SendResult;
    try {
      result = await transport.send({ ...message, sentAt: new Date(message.sentAt) }, registration.fields);
    } catch (error) {
      log.warn({ ...context, err: error }, "transport threw while sending; will retry");
      result = { kind: "temporary", reason: (error as Error).message || "the transport failed" };
    }
    entry.attempts += 1;
    if (result.kind === "accepted") {
      log.debug({ ...context, providerId: result.providerId }, "message accepted by transport");
      await events.accepted(entry, result.providerId);
      await table.delete(message.id);
      setWaiting(-1);
      count("accepted");
      return;
    }
    if (result.kind === "permanent") {
      log.info({ ...context, reason: result.reason }, "message refused by transport");
      await events.failed(entry, result.reason);
      await table.delete(message.id);
      setWaiting(-1);
      count("refused");
      return;
    }
    const now = Date.now();
    if (now - entry.firstAttemptAt >= retryForMs) {
      const hours = Math.round((now - entry.firstAttemptAt) / 360_000) / 10;
      const reason = `Not sent after ${entry.attempts} attempts over ${hours} hours. Last problem: ${result.reason}`;
      log.warn({ ...context, reason }, "gave up on an outgoing message");
      await events.failed(entry, reason);
      await table.delete(message.id);
      setWaiting(-1);
      count("failed");
      return;
    }
    metrics.retries.inc(labels);
    const backoff = Math.min(MAX_BACKOFF_MS, retryBaseMs * 2 ** Math.min(entry.attempts - 1, 20));
    entry.nextAttemptAt = now + Math.max(result.retryAfterMs ?? 0, backoff);
    entry.lastError = result.reason;
    await table.set(message.id, entry);
    log.info({ ...context, reason: result.reason, retryInMs: entry.nextAttemptAt - now }, "message will be retried");
    schedule(entry);
  };

  return {
    async enqueue(partial) {
      const now = Date.now();
      const entry: OutboxEntry = { ...partial, attempts: 0, firstAttemptAt: now, nextAttemptAt: now };
      await table.set(entry.message.id, entry);
      setWaiting(1);
      schedule(entry);
    },
    has(id) {
      return table.has(id);
    },
    async resume() {
      let resumed = 0;
      for await (const [, entry] of table.entries()) {
        schedule(entry);
        resumed += 1;
      }
      setWaiting(resumed);
      return resumed;
    },
    async dropUser(user) {
      for await (const [id, entry] of table.entries()) {
        if (entry.message.user !== user) continue;
        clearTimeout(timers.get(id));
        timers.delete(id);
        await table.delete(id);
        setWaiting(-1);
      }
    },
    pending() {
      return waiting;
    },
    async stop() {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await conversations.idle();
    },
  };
}
