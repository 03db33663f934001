// One IMAP IDLE session per mailbox: new mail in, each message handed on in UID order; the
// mailbox's UIDVALIDITY and last handled UID live in the store so that a restart of the gateway
// or of the mail server, or a dropped connection, resumes exactly where it stopped. A message is
// marked done (\Seen or moved) only once its chat message is with the XMPP server.
import type { ImapFlow } from "imapflow";
import type { Logger } from "pino";
import type { Table } from "../../src/transport/index.js";
import type { ServerLogin } from "./account.js";
import type { EmailConfig } from "./config.js";
import { imapClient, imapRefusal } from "./imap-client.js";

export interface MailboxState {
  uidValidity: string;
  /** The highest UID already handed on; only mail above it is new. */
  lastUid: number;
  /** Mails handed on but not yet marked done (kept so a crash between the two is made good). */
  open?: number[];
}

export interface FetchedMail {
  uid: number;
  uidValidity: string;
  source: Buffer;
  /** The mail is larger than maxMessageBytes and only its beginning was read. */
  truncated: boolean;
}

/** What became of a mail: delivered (mark it done once `delivered` resolves), done now, or left alone. */
export type MailOutcome = { kind: "deliver"; delivered: Promise<unknown> } | { kind: "done" } | { kind: "leave" };

export interface MailboxSessionOptions {
  /** Names the mailbox in the store and in logs (a user's JID, or "hosted"). */
  key: string;
  login: ServerLogin;
  config: EmailConfig;
  log: Logger;
  state: Table<MailboxState>;
  /** Handles one mail. Throwing leaves it (and all after it) for the next attempt. */
  handle(mail: FetchedMail): Promise<MailOutcome>;
  /** Starts the part of a mail's handling that needs no order (parsing) while earlier mails are
   *  being handled, so that their waits for the store are not idle time; handle() finishes it. */
  readAhead?(mail: FetchedMail): void;
  /** Told when the mailbox becomes reachable or stops being so (with a sentence for the user). */
  onState?(state: { ok: true } | { ok: false; reason: string }): void;
  /** How many handed-on mails may wait for their chat message's confirmation before the session
   *  waits too (default MAX_UNCONFIRMED). */
  maxUnconfirmed?: number;
}

export class MailboxSession {
  private stopped = false;
  private client: ImapFlow | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private draining: Promise<void> | null = null;
  private again = false;
  private state: MailboxState | null = null;
  private saving: Promise<void> = Promise.resolve();
  private saveTimer: NodeJS.Timeout | null = null;
  private markRound: Promise<void> | null = null;
  private flushing: Promise<void> | null = null;
  private flushAgain = false;
  /** Mails handed on in this run whose chat message is not yet confirmed, or not yet marked. */
  private readonly awaiting = new Set<number>();
  /** Confirmed mails waiting for their \Seen flag (or move). */
  private readonly toMark = new Set<number>();
  private connectedOnce = false;
  /** Confirmations of chat messages not yet in. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Chat messages handed on whose confirmation (or failure) is not in yet: while the XMPP server
   *  is away, each would hold its mail in memory, so past a bound the session waits for them. */
  private readonly unconfirmed = new Set<Promise<void>>();
  private stopSignal!: () => void;
  /** Resolves at stop(): ends a wait for confirmations that may never come. */
  private readonly stopping = new Promise<void>((resolve) => (this.stopSignal = resolve));

  constructor(private readonly options: MailboxSessionOptions) {}

  get key(): string {
    return this.options.key;
  }

  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  /** Finishes the mail in hand and waits (bounded) for chat messages already sent to be confirmed,
   *  so that a restart neither sends them twice nor leaves their mails unmarked. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSignal();
    await this.draining?.catch(() => undefined);
    await Promise.race([Promise.allSettled([...this.inFlight]), sleep(STOP_GRACE_MS)]);
    const client = this.client;
    if (client?.usable) await this.flushMarks(client);
    if (this.saveTimer) await this.save().catch(() => undefined);
    this.wake?.();
    if (client) await Promise.race([client.logout().catch(() => undefined), sleep(2_000)]).then(() => client.close());
    await this.loop;
  }

  private async run(): Promise<void> {
    const { config, log } = this.options;
    let delay = config.imap.reconnectMinMs;
    while (!this.stopped) {
      let client: ImapFlow | null = null;
      let opened = false;
      try {
        // Resolved and checked on every connect: a name may point elsewhere since registration.
        const current = await imapClient(this.options.login, config, log);
        if (this.stopped) break;
        client = current;
        this.client = current;
        const closed = new Promise<void>((resolve) => current.once("close", () => resolve()));
        current.on("error", (error: Error) => log.debug({ mailbox: this.key, err: error }, "imap connection error"));
        await current.connect();
        await current.mailboxOpen("INBOX");
        opened = true;
        this.options.onState?.({ ok: true });
        current.on("exists", () => {
          this.drain(current).catch((error: unknown) => this.failed(current, error));
        });
        await this.flushMarks(current);
        await this.drain(current);
        log.info({ mailbox: this.key, resumed: this.connectedOnce }, "watching mailbox");
        this.connectedOnce = true;
        delay = config.imap.reconnectMinMs;
        await Promise.race([closed, new Promise<void>((resolve) => (this.wake = resolve))]);
      } catch (error) {
        if (!this.stopped) {
          log.warn({ mailbox: this.key, err: error, retryInMs: delay }, "mailbox session failed; will reconnect");
          // Only trouble with the mailbox itself is the user's to see; a failure while handing
          // mail on (a full disk, say) is the operator's, and is retried all the same.
          if (!opened) this.options.onState?.({ ok: false, reason: imapRefusal(this.options.login, error).message });
        }
      }
      this.client = null;
      client?.close();
      await this.draining?.catch(() => undefined);
      if (this.stopped) break;
      if (this.connectedOnce) log.info({ mailbox: this.key, retryInMs: delay }, "mailbox connection lost; reconnecting");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      delay = Math.min(delay * 2, config.imap.reconnectMaxMs);
    }
  }

  /** A failure while draining drops the connection; the reconnect starts again from the store. */
  private failed(client: ImapFlow, error: unknown): void {
    if (this.stopped) return;
    this.options.log.warn({ mailbox: this.key, err: error }, "could not handle new mail; reconnecting");
    client.close();
  }

  private drain(client: ImapFlow): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    const running = (async () => {
      try {
        do {
          this.again = false;
          await this.drainOnce(client);
        } while (this.again && !this.stopped && client.usable);
      } finally {
        this.draining = null;
      }
    })();
    this.draining = running;
    return running;
  }

  private async drainOnce(client: ImapFlow): Promise<void> {
    const mailbox = client.mailbox;
    if (!mailbox) throw new Error("INBOX is not open");
    const state = await this.currentState(String(mailbox.uidValidity), mailbox.uidNext);
    // Mails an earlier run (or connection) handed on but never marked: hand them on again. The
    // core knows their source ids and does not deliver twice; it says when each is confirmed.
    const reopen = (state.open ?? []).filter((uid) => !this.awaiting.has(uid));
    if (reopen.length > 0)
      await this.processAll(
        client,
        state,
        reopen.map((uid) => ({ uid, size: 0 })),
        false,
      );
    const lastUid = state.lastUid;
    if (!client.mailbox || client.mailbox.exists === 0) return;
    // Sizes first: they decide how many mails one FETCH may bring, so memory stays bounded.
    const fresh: Array<{ uid: number; size: number }> = [];
    for await (const message of client.fetch(`${lastUid + 1}:*`, { uid: true, size: true }, { uid: true })) {
      // "n:*" always matches the last message, even when its UID is below n.
      if (message.uid > lastUid) fresh.push({ uid: message.uid, size: message.size ?? 0 });
    }
    fresh.sort((a, b) => a.uid - b.uid);
    await this.processAll(client, state, fresh, true);
  }

  private async processAll(client: ImapFlow, state: MailboxState, items: Array<{ uid: number; size: number }>, isNew: boolean): Promise<void> {
    const { maxMessageBytes } = this.options.config;
    const all = batches(items, maxMessageBytes);
    // Collected first: imapflow cannot run other commands while a FETCH is being read. The next
    // batch is asked for while this one is handled (the marks of this one queue behind it).
    const fetchBatch = async (batch: Array<{ uid: number }>): Promise<Map<number, Buffer>> => {
      const sources = new Map<number, Buffer>();
      for await (const message of client.fetch(batch.map((item) => item.uid).join(","), { uid: true, source: { maxLength: maxMessageBytes } }, { uid: true })) {
        if (message.source) sources.set(message.uid, message.source);
      }
      return sources;
    };
    let next = all[0] ? fetchBatch(all[0]) : undefined;
    for (const [index, batch] of all.entries()) {
      if (this.stopped || !client.usable || !next) return;
      const sources = await next;
      const following = all[index + 1];
      next = following && !this.stopped ? fetchBatch(following) : undefined;
      next?.catch(() => undefined); // awaited in the next round; a failure then ends the drain
      const fetched = batch.map((item) => {
        const source = sources.get(item.uid);
        return source ? { uid: item.uid, uidValidity: state.uidValidity, source, truncated: item.size > maxMessageBytes } : undefined;
      });
      try {
        for (const [position, item] of batch.entries()) {
          if (this.stopped || !client.usable) return;
          for (const ahead of fetched.slice(position + 1, position + 1 + READ_AHEAD)) if (ahead) this.options.readAhead?.(ahead);
          while (this.unconfirmed.size >= (this.options.maxUnconfirmed ?? MAX_UNCONFIRMED) && !this.stopped)
            await Promise.race([...this.unconfirmed, this.stopping]);
          if (this.stopped || !client.usable) return;
          await this.process(state, item.uid, fetched[position], isNew);
        }
      } finally {
        // Once per batch: a crash before it only means handing the batch on again, which the
        // core recognises (it de-duplicates by source id).
        await this.save();
      }
    }
  }

  /** The stored state of this mailbox, started afresh when there is none or the mailbox was recreated. */
  private async currentState(uidValidity: string, uidNext: number | undefined): Promise<MailboxState> {
    this.state ??= (await this.options.state.get(this.key)) ?? null;
    if (this.state && this.state.uidValidity === uidValidity) return this.state;
    // UIDs of the old mailbox mean nothing in the new one; we cannot tell old mail from new, so
    // only what arrives from now on is forwarded rather than flooding the user with the inbox.
    if (this.state)
      this.options.log.warn(
        { mailbox: this.key, was: this.state.uidValidity, now: uidValidity },
        "the mailbox was recreated (UIDVALIDITY changed); forwarding mail that arrives from now on",
      );
    this.state = { uidValidity, lastUid: Math.max(0, (uidNext ?? 1) - 1), open: [] };
    this.awaiting.clear();
    this.toMark.clear();
    await this.save();
    return this.state;
  }

  private async process(state: MailboxState, uid: number, mail: FetchedMail | undefined, isNew: boolean): Promise<void> {
    const { log } = this.options;
    // Gone (expunged or moved by the user's mail client) or left alone: nothing to mark.
    const outcome: MailOutcome = mail ? await this.options.handle(mail) : { kind: "leave" };
    const open = state.open ?? [];
    if (outcome.kind === "leave") state.open = open.filter((candidate) => candidate !== uid);
    // A new mail's UID is above every open one: only a mail handed on again can be listed already.
    else if (isNew || !open.includes(uid)) open.push(uid);
    if (isNew) state.lastUid = uid;
    if (outcome.kind === "leave") return;
    this.awaiting.add(uid);
    if (outcome.kind === "deliver") {
      const settled = outcome.delivered.then(
        () => undefined,
        () => undefined,
      );
      this.unconfirmed.add(settled);
      void settled.finally(() => this.unconfirmed.delete(settled));
    }
    const confirmed = (outcome.kind === "deliver" ? outcome.delivered : Promise.resolve()).then(
      () => this.confirmed(uid),
      (error: unknown) => {
        this.awaiting.delete(uid);
        log.warn({ mailbox: this.key, uid, err: error }, "the chat message of a mail was not confirmed; will try again after reconnecting");
      },
    );
    this.inFlight.add(confirmed);
    void confirmed.finally(() => this.inFlight.delete(confirmed));
  }

  /** A confirmed mail is marked with others confirmed about the same time: one STORE for many. */
  private confirmed(uid: number): Promise<void> {
    this.toMark.add(uid);
    if (this.toMark.size >= MARK_BATCH) return this.markNow();
    this.markRound ??= new Promise<void>((resolve) => setTimeout(resolve, MARK_DELAY_MS).unref()).then(() => {
      this.markRound = null;
      return this.markNow();
    });
    return this.markRound;
  }

  private markNow(): Promise<void> {
    const client = this.client;
    return client?.usable ? this.flushMarks(client) : Promise.resolve();
  }

  /** Marks every confirmed mail; calls while one is under way are folded into the next round. */
  private flushMarks(client: ImapFlow): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    const running = (async () => {
      try {
        do {
          this.flushAgain = false;
          await this.flushOnce(client);
        } while (this.flushAgain && client.usable && this.toMark.size > 0);
      } finally {
        this.flushing = null;
      }
    })();
    this.flushing = running;
    return running;
  }

  private async flushOnce(client: ImapFlow): Promise<void> {
    const state = this.state;
    if (!state || this.toMark.size === 0 || String(client.mailbox ? client.mailbox.uidValidity : "") !== state.uidValidity) return;
    const uids = [...this.toMark];
    const range = uidSet(uids);
    try {
      if (this.options.config.markDone === "move") {
        const folder = this.options.config.doneFolder;
        await client.mailboxCreate(folder).catch(() => undefined); // exists already, most of the time
        await client.messageMove(range, folder, { uid: true });
      } else {
        // .SILENT: the server does not echo each message's new flags, which imapflow would parse
        // and drop (one untagged FETCH per mail).
        await client.messageFlagsAdd(range, ["\\Seen"], { uid: true, silent: true });
      }
    } catch (error) {
      this.options.log.debug({ mailbox: this.key, err: error }, "could not mark mail done; will try after reconnecting");
      return;
    }
    for (const uid of uids) {
      this.toMark.delete(uid);
      this.awaiting.delete(uid);
    }
    const marked = new Set(uids);
    state.open = (state.open ?? []).filter((uid) => !marked.has(uid));
    this.saveSoon();
  }

  /**
   * Marks come in many small rounds while a backlog drains: the state that no longer lists them
   * is written once a while later (or with the next batch), not after each round. A crash before
   * that only hands those mails on again, which the core recognises and marks done at once.
   */
  private saveSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save().catch((error: unknown) => this.options.log.warn({ mailbox: this.key, err: error }, "could not save the mailbox state"));
    }, MARKED_SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  /** Writes the state; writes are chained so that an older one never lands after a newer one. */
  private save(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    const state = this.state;
    if (!state) return Promise.resolve();
    const snapshot: MailboxState = { ...state, open: [...(state.open ?? [])] };
    this.saving = this.saving.catch(() => undefined).then(() => this.options.state.set(this.key, snapshot));
    return this.saving;
  }
}

const STOP_GRACE_MS = 5_000;
/** How many mails of a batch are parsed ahead of the one being handled. */
const READ_AHEAD = 4;
/** Confirmed mails are marked once this many wait, or this long after the first of them. */
const MARK_BATCH = 50;
/** Chat messages a mailbox may have waiting for the XMPP server's confirmation; far above what a
 *  working link holds (a few milliseconds' worth), so it only bites while the server is away. */
const MAX_UNCONFIRMED = 500;
const MARK_DELAY_MS = 100;
/** The state after a round of marks is written at most this late (earlier with the next batch). */
const MARKED_SAVE_DELAY_MS = 1_000;
/** At most this many mails, and about this many bytes, per FETCH. */
const BATCH_COUNT = 100;
const BATCH_BYTES = 16 * 1024 * 1024;

function batches<T extends { size: number }>(items: T[], maxMessageBytes: number): T[][] {
  const result: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Math.min(item.size, maxMessageBytes);
    if (current.length > 0 && (current.length >= BATCH_COUNT || bytes + size > BATCH_BYTES)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** UIDs as an IMAP sequence set, runs of consecutive UIDs as ranges ("4:9,12"). */
export function uidSet(uids: number[]): string {
  const sorted = [...uids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j += 1;
    parts.push(j > i ? `${sorted[i]}:${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(",");
}
