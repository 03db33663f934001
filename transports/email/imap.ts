// One IMAP IDLE session per mailbox: new mail in, each message handed on in UID order; the
// mailbox's UIDVALIDITY and last handled UID live in the store so that a restart of the gateway
// or of the mail server, or a dropped connection, resumes exactly where it stopped. A message is
// marked done (\Seen or moved) only once its chat message is with the XMPP server.
import type { ImapFlow } from "imapflow";
import type { Logger } from "pino";
import type { Table } from "../../src/store/store.js";
import type { ServerLogin } from "./account.js";
import type { EmailConfig } from "./config.js";
import { imapClient, imapRefusal } from "./imap-client.js";

export interface MailboxState {
  uidValidity: string;
  /** The highest UID already handed on; only mail above it is new. */
  lastUid: number;
}

export interface FetchedMail {
  uid: number;
  uidValidity: string;
  source: Buffer;
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
  /** Told when the mailbox becomes reachable or stops being so (with a sentence for the user). */
  onState?(state: { ok: true } | { ok: false; reason: string }): void;
}

export class MailboxSession {
  private stopped = false;
  private client: ImapFlow | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private draining: Promise<void> | null = null;
  private again = false;
  /** Delivered mails not yet marked done, by UIDVALIDITY so a recreated mailbox drops them. */
  private unmarked = new Map<string, Set<number>>();
  private connectedOnce = false;
  /** Confirmations of chat messages not yet in. */
  private readonly inFlight = new Set<Promise<unknown>>();

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
    await this.draining?.catch(() => undefined);
    await Promise.race([Promise.allSettled([...this.inFlight]), sleep(STOP_GRACE_MS)]);
    const client = this.client;
    if (client?.usable) await this.flushMarks(client);
    this.wake?.();
    if (client) await Promise.race([client.logout().catch(() => undefined), sleep(2_000)]).then(() => client.close());
    await this.loop;
  }

  private async run(): Promise<void> {
    const { config, log } = this.options;
    let delay = config.imap.reconnectMinMs;
    while (!this.stopped) {
      const client = imapClient(this.options.login, config, log);
      this.client = client;
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      client.on("error", (error: Error) => log.debug({ mailbox: this.key, err: error }, "imap connection error"));
      try {
        await client.connect();
        await client.mailboxOpen("INBOX");
        client.on("exists", () => {
          this.drain(client).catch((error: unknown) => this.failed(client, error));
        });
        await this.flushMarks(client);
        await this.drain(client);
        log.info({ mailbox: this.key, resumed: this.connectedOnce }, "watching mailbox");
        this.options.onState?.({ ok: true });
        this.connectedOnce = true;
        delay = config.imap.reconnectMinMs;
        await Promise.race([closed, new Promise<void>((resolve) => (this.wake = resolve))]);
      } catch (error) {
        if (!this.stopped) {
          log.warn({ mailbox: this.key, err: error, retryInMs: delay }, "mailbox session failed; will reconnect");
          this.options.onState?.({ ok: false, reason: imapRefusal(this.options.login, error).message });
        }
      }
      this.client = null;
      client.close();
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
    const { state: table, log, config } = this.options;
    const mailbox = client.mailbox;
    if (!mailbox) throw new Error("INBOX is not open");
    const uidValidity = String(mailbox.uidValidity);
    let state = await table.get(this.key);
    if (!state || state.uidValidity !== uidValidity) {
      // UIDs of the old mailbox mean nothing in the new one; we cannot tell old mail from new, so
      // only what arrives from now on is forwarded rather than flooding the user with the inbox.
      if (state) log.warn({ mailbox: this.key, was: state.uidValidity, now: uidValidity }, "the mailbox was recreated (UIDVALIDITY changed); forwarding mail that arrives from now on");
      state = { uidValidity, lastUid: Math.max(0, (mailbox.uidNext ?? 1) - 1) };
      await table.set(this.key, state);
      this.unmarked.clear();
    }
    const lastUid = state.lastUid;
    const found = await client.search({ uid: `${lastUid + 1}:*` }, { uid: true });
    // "n:*" always matches the last message, even when its UID is below n.
    const uids = (found || []).filter((uid) => uid > lastUid).sort((a, b) => a - b);
    for (const uid of uids) {
      if (this.stopped || !client.usable) return;
      const message = await client.fetchOne(String(uid), { uid: true, source: { maxLength: config.maxMessageBytes } }, { uid: true });
      if (message && message.source) {
        const outcome = await this.options.handle({ uid, uidValidity, source: message.source });
        if (outcome.kind === "done") void this.markDone(uidValidity, uid);
        if (outcome.kind === "deliver") {
          const confirmed = outcome.delivered.then(
            () => this.markDone(uidValidity, uid),
            (error: unknown) => log.warn({ mailbox: this.key, uid, err: error }, "the chat message of a mail was not confirmed; the mail stays unread"),
          );
          this.inFlight.add(confirmed);
          void confirmed.finally(() => this.inFlight.delete(confirmed));
        }
      }
      state = { uidValidity, lastUid: uid };
      await table.set(this.key, state);
    }
  }

  private async markDone(uidValidity: string, uid: number): Promise<void> {
    const set = this.unmarked.get(uidValidity) ?? new Set<number>();
    set.add(uid);
    this.unmarked.set(uidValidity, set);
    const client = this.client;
    if (client?.usable) await this.flushMarks(client);
  }

  private async flushMarks(client: ImapFlow): Promise<void> {
    const uidValidity = String(client.mailbox ? client.mailbox.uidValidity : "");
    const set = this.unmarked.get(uidValidity);
    if (!set || set.size === 0) return;
    const uids = [...set];
    const range = uids.join(",");
    try {
      if (this.options.config.markDone === "move") {
        const folder = this.options.config.doneFolder;
        await client.mailboxCreate(folder).catch(() => undefined); // exists already, most of the time
        await client.messageMove(range, folder, { uid: true });
      } else {
        await client.messageFlagsAdd(range, ["\\Seen"], { uid: true });
      }
      for (const uid of uids) set.delete(uid);
    } catch (error) {
      this.options.log.debug({ mailbox: this.key, err: error }, "could not mark mail done; will try after reconnecting");
    }
  }
}

const STOP_GRACE_MS = 5_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
