// Messages from a transport into XMPP. Stored before the transport may acknowledge its source,
// sent to the user's bare JID (the server stores it while they are offline), and marked done only
// once the server has it. A source id seen before is not delivered twice.
import { createHash } from "node:crypto";
import { gatewayError } from "../../errors.js";
import type { TransportLedger } from "../../store/ledger/ledger.js";
import type { Attachment, Delivery, InboundMessage } from "../../transport/contract.js";
import type { DeliveryJournal } from "./delivery-journal.js";
import { createKeyedQueue } from "../../transport/keyed-queue.js";
import type { BareJid } from "../../xmpp/jid.js";
import { LinkDownError, LinkStoppedError, StanzaRefusedError } from "../../xmpp/link.js";
import { xml, xmlText, type Element } from "../../xmpp/xml.js";
import type { Gateway } from "../gateway.js";
import { NS } from "../gateway.js";
import { withoutCorrectionMarker } from "../features/feature-texts.js";
import { FEATURE_NS } from "../features/message-features.js";
import { parseReactionText, quotes as quotesText } from "../features/reaction-text.js";
import { EXCERPT_CHARS, type SentText } from "../state/sent-texts.js";

export interface InboundRecord {
  sourceId: string;
  peer: string;
  thread?: string;
  /** Only where the transport sends reactions as text, which quote the message: its user and the
   *  start of its text. */
  user?: string;
  excerpt?: string;
}

/** takenAt: when the gateway took it in (ms), for the delivery-latency histogram; reaction: the
 *  text is a phone's reaction to the user's message known by `id` (XEP-0444). */
type StoredInbound = Omit<InboundMessage, "sentAt"> & { sentAt?: string; stanzaId: string; takenAt?: number; reaction?: { id: string; emoji: string } };

/** What became of a message handed to the server: it kept it; the link set it aside (the server
 *  closed the stream on it each time); the user's server sent it back each time. */
type Outcome = "kept" | "refused" | "returned";

const SEEN_TTL_MS = 90 * 24 * 3_600_000;
const RESUME_PAGE = 500;
const STANZA_ID_PREFIX = "sb-";

/** Whether a stanza id is one the inbox gave a message it delivered from a transport. */
export const isDeliveryId = (id: string | undefined): boolean => id?.startsWith(STANZA_ID_PREFIX) ?? false;
/** Messages older than this carry a XEP-0203 delay so clients show when they were written. */
const DELAY_AFTER_MS = 60_000;
/** A message the user's server sends back is tried again after these many retry periods (2 s by
 *  default): a server restarting or short of storage takes it later; a deleted account never does. */
const BOUNCE_RETRIES = [1, 5, 30, 120];
/** A message the link refused (its queue full) is sent again from the store after this, doubling. */
const REFUSED_RETRY_MS = 10_000;
const REFUSED_RETRY_MAX_MS = 5 * 60_000;
/** What one chat message carries of its attachments: a mail with thousands of them would make a
 *  stanza over the server's limit (Prosody's component_stanza_size_limit is 512 KiB, ejabberd's
 *  max_stanza_size 256 KB), and the server closes the stream on it. The rest are named by a count. */
const MAX_SHOWN_ATTACHMENTS = 20;
/** URL text of the attachments shown, in the body and again in their OOB elements. */
const MAX_ATTACHMENT_URL_CHARS = 4_000;
const MAX_ATTACHMENT_NAME_CHARS = 200;
/** The sender's display name (XEP-0172), in the stanza and as the contact's roster name. */
const MAX_NICK_CHARS = 100;

export interface Inbox {
  deliver(message: InboundMessage): Promise<Delivery>;
  /** Send again what an earlier run stored but never saw confirmed. */
  resume(): Promise<number>;
  /** Waits (at most `timeoutMs`) for messages sent but not yet confirmed by the server. */
  settle(timeoutMs: number): Promise<void>;
  /** What the gateway knows of a message it delivered under this stanza id (for replies). */
  record(stanzaId: string): Promise<InboundRecord | undefined>;
  /** The user's server sent back (as `from`) the message it got under this stanza id. */
  bounced(stanzaId: string, from: string, error: string | undefined): void;
}

export interface InboxHooks {
  /** A reason to keep this message out of XMPP (the user's policy), or nothing. */
  filter(user: BareJid, peer: string): Promise<string | undefined>;
  /** The user hears from this address for the first time. */
  newContact(user: BareJid, peer: string, nick?: string): Promise<void>;
  /** The user's recent messages to this address, newest first: what a phone's reaction text quotes. */
  sentTo?(user: BareJid, peer: string): Promise<SentText[]>;
}

export function createInbox(
  gateway: Gateway,
  /** Waiting messages, and the ids of delivered ones (whose record serves replies). */
  ledger: TransportLedger,
  hooks: InboxHooks,
  journal?: DeliveryJournal,
  options: { retryBaseMs?: number } = {},
): Inbox {
  const { registrations, contacts, log, limits, domain, metrics, transport } = gateway;
  const count = (result: string): void => metrics.messages.inc({ transport: transport.name, direction: "in", result });
  const inFlight = new Map<string, Promise<void>>();
  const retryBaseMs = options.retryBaseMs ?? 2_000;
  /** What the server said when it sent back a message still in flight, by key. A server that
   *  refuses at once (Prosody) sends that before it answers the ping that confirms the message. */
  const bounces = new Map<string, { from: string; error: string }>();
  // A reaction sent as text quotes the message it is about, which may be one the user received.
  const quotes = transport.capabilities.reactions === "text";
  // Deliveries of the same source id run one after the other, so a second one sees the first.
  const intake = createKeyedQueue();

  /** Sends until the server keeps it: "kept"; "refused" when the link set it aside (it closed the
   *  stream each time); "returned" when the user's server sent it back each time. */
  const handOver = async (key: string, stored: StoredInbound): Promise<Outcome> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await gateway.send(buildStanza(stored));
      } catch (error) {
        if (error instanceof StanzaRefusedError) return "refused";
        throw error;
      }
      const refusal = bounces.get(key);
      bounces.delete(key);
      // Only the user's side can send back what was addressed to the user.
      if (refusal?.from !== stored.user) return "kept";
      const context = { user: stored.user, sourceId: stored.sourceId, attempts: attempt, error: refusal.error };
      const wait = BOUNCE_RETRIES[attempt - 1];
      if (wait === undefined) {
        log.warn(context, "the user's server sent the message back each time; given up");
        return "returned";
      }
      log.info({ ...context, retryInMs: wait * retryBaseMs }, "the user's server sent the message back; trying again later");
      // A stop meanwhile leaves the message in the inbox, for the next start.
      await new Promise((resolve) => setTimeout(resolve, wait * retryBaseMs).unref());
    }
  };

  /** What the server did with messages whose waiting row could not be finished afterwards (the
   *  store failed): handed on again, they get only the bookkeeping, never a second copy. */
  const unrecorded = new Map<string, Outcome>();

  /** Sends a stored message once per process at a time; `stored` may be a read of its row, which
   *  then runs under the in-flight entry (undefined: the row is gone, nothing is sent). */
  const send = (key: string, stored: StoredInbound | (() => Promise<StoredInbound | undefined>), handedOver?: Outcome): Promise<void> => {
    const running = inFlight.get(key);
    if (running) return running;
    const done = (async () => {
      const row = typeof stored === "function" ? await stored() : stored;
      if (!row) return;
      const earlier = handedOver ?? unrecorded.get(key);
      const outcome = earlier ?? (await handOver(key, row));
      if (!earlier) {
        if (outcome !== "refused") journal?.confirmed(key);
        if (row.takenAt && outcome === "kept")
          metrics.deliveryLatency.observe({ transport: transport.name, direction: "in" }, (Date.now() - row.takenAt) / 1000);
      }
      try {
        await finish(key, row, outcome);
      } catch (error) {
        unrecorded.set(key, outcome);
        throw error;
      }
      unrecorded.delete(key);
    })();
    inFlight.set(key, done);
    void done
      .finally(() => {
        inFlight.delete(key);
        bounces.delete(key);
      })
      .then(
        () => refusedTries.delete(key),
        (error: unknown) => {
          if (error instanceof LinkDownError && !(error instanceof LinkStoppedError)) sendLater(key);
        },
      );
    return done;
  };

  /** Tries so far of messages the link refused (its queue was full while the server was away), by key. */
  const refusedTries = new Map<string, number>();
  /**
   * A message the link refused stays stored; a source that reads a mailbox hands it on again, but
   * one that is done with it (LMTP, a webhook) never does. So it is sent again from the store, a
   * while later (the link's queue first has to drain), with nothing of it held in memory meanwhile.
   */
  const sendLater = (key: string): void => {
    const tries = (refusedTries.get(key) ?? 0) + 1;
    refusedTries.set(key, tries);
    const wait = Math.min(REFUSED_RETRY_MAX_MS, REFUSED_RETRY_MS * 2 ** (tries - 1));
    setTimeout(() => {
      send(key, () => ledger.inboxGet<StoredInbound>(key)).catch((error: unknown) =>
        log.debug({ err: error, key }, "a stored message could not be sent again yet"),
      );
    }, wait).unref();
  };

  /** The waiting row goes and the delivered id is remembered (one transaction). */
  const finish = async (key: string, stored: StoredInbound, outcome: Outcome): Promise<void> => {
    if (outcome === "refused") {
      // Sending it again would only close the stream again: it is kept as a dead letter
      // (the link already logged it and the user is told), and its source is let go.
      count("refused");
      await ledger.inboxDone(key, stored.user, { sourceId: stored.sourceId, peer: stored.peer }, Date.now() + SEEN_TTL_MS);
      return;
    }
    const record: InboundRecord = {
      sourceId: stored.sourceId,
      peer: stored.peer,
      ...(stored.thread && { thread: stored.thread }),
      ...(quotes && { user: stored.user, excerpt: stored.body.slice(0, EXCERPT_CHARS) }),
    };
    await ledger.inboxDone(key, stored.user, record, Date.now() + SEEN_TTL_MS);
    count(outcome === "returned" ? "undeliverable" : "delivered");
  };

  /**
   * A source hands on again a message it handed on before. A row still waiting and not in flight
   * here was stored but never reached the server (the link refused it, the store failed after): it
   * is sent again now, as resume() would at the next start, and its source hears only once the
   * server has it. A row already done is a plain duplicate.
   */
  const handOnAgain = (user: BareJid, key: string, sourceId: string): Promise<void> =>
    send(key, async () => {
      const stored = await ledger.inboxGet<StoredInbound>(key);
      if (stored) log.info({ user, sourceId }, "sending again a stored message that has not reached the XMPP server yet");
      else ignored(user, sourceId);
      return stored;
    });

  const ignored = (user: BareJid, sourceId: string): void => {
    log.info({ user, sourceId }, "ignored a message delivered before");
    count("duplicate");
  };

  const buildStanza = (message: StoredInbound): Element => {
    const body = xmlText(message.body, limits.maxBodyChars);
    const shown = shownAttachments(message.attachments ?? []);
    const hidden = (message.attachments?.length ?? 0) - shown.length;
    const links = shown.map((attachment) => attachment.url).filter((url) => !body.includes(url));
    // The URL in the body is the fallback for clients that do not show OOB attachments.
    const fullBody = [body, ...links, hidden > 0 ? hiddenNote(hidden) : ""].filter(Boolean).join("\n");
    const sentAt = message.sentAt ? new Date(message.sentAt) : undefined;
    return xml(
      "message",
      { type: "chat", from: contacts.jidOf(message.peer), to: message.user, id: message.stanzaId },
      message.subject ? xml("subject", {}, xmlText(message.subject, limits.maxSubjectChars)) : null,
      xml("body", {}, fullBody),
      message.thread ? xml("thread", {}, xmlText(message.thread, 256)) : null,
      message.nick ? xml("nick", { xmlns: NS.nick }, xmlText(message.nick, MAX_NICK_CHARS)) : null,
      ...shown.map((attachment) =>
        xml(
          "x",
          { xmlns: NS.oob },
          xml("url", {}, attachment.url),
          attachment.name ? xml("desc", {}, xmlText(attachment.name, MAX_ATTACHMENT_NAME_CHARS)) : null,
        ),
      ),
      sentAt && Date.now() - sentAt.getTime() > DELAY_AFTER_MS ? xml("delay", { xmlns: NS.delay, from: domain, stamp: sentAt.toISOString() }) : null,
      // The body (the phone's text) is the fallback for clients without reactions (XEP-0428).
      message.reaction ? xml("reactions", { xmlns: FEATURE_NS.reactions, id: message.reaction.id }, xml("reaction", {}, message.reaction.emoji)) : null,
      message.reaction ? xml("fallback", { xmlns: FEATURE_NS.fallback, for: FEATURE_NS.reactions }) : null,
      xml("markable", { xmlns: "urn:xmpp:chat-markers:0" }),
      // The same id on every copy: if a crash makes us send a message twice, clients that
      // de-duplicate by XEP-0359 ids show it once.
      xml("origin-id", { xmlns: "urn:xmpp:sid:0", id: message.stanzaId }),
    );
  };

  return {
    async deliver(message) {
      const user = message.user as BareJid;
      if (!(await registrations.isRegistered(user))) {
        throw gatewayError("registration-required", `${user} is not registered with ${domain}; the message was not delivered.`, "not-registered");
      }
      const key = createHash("sha256").update(message.sourceId).digest("base64url").slice(0, 32);
      return intake.run(key, () => accept(user, key, message));
    },
    async record(stanzaId) {
      return isDeliveryId(stanzaId) ? ledger.seenGet<InboundRecord>("in", stanzaId.slice(STANZA_ID_PREFIX.length), Date.now()) : undefined;
    },
    bounced(stanzaId, from, error) {
      if (!isDeliveryId(stanzaId)) return;
      const key = stanzaId.slice(STANZA_ID_PREFIX.length);
      if (inFlight.has(key)) bounces.set(key, { from, error: error ?? "" });
    },
    async settle(timeoutMs) {
      await Promise.race([Promise.allSettled([...inFlight.values()]), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    },
    async resume() {
      let count = 0;
      // Paged by key: rows finished while paging cannot make it skip others.
      for (let after = ""; ; ) {
        const page = await ledger.inboxPage<StoredInbound>(after, RESUME_PAGE);
        for (const { key, stored } of page) {
          count += 1;
          // Confirmed by the server just before the last run stopped: only the bookkeeping is left.
          const confirmed = journal?.wasConfirmed(key) ?? false;
          send(key, stored, confirmed ? "kept" : undefined).catch((error: unknown) =>
            log.warn({ err: error, user: stored.user }, "redelivery failed; tried again when its source hands it on, or at the next start"),
          );
        }
        if (page.length < RESUME_PAGE) break;
        after = page[page.length - 1]!.key;
      }
      // Runs in the background: the link comes online only after start() returns.
      void Promise.allSettled([...inFlight.values()]).then(() => journal?.settle());
      return count;
    },
  };

  async function accept(user: BareJid, key: string, message: InboundMessage): Promise<Delivery> {
    const duplicate = (): Delivery => {
      const running = inFlight.get(key);
      if (!running) return { duplicate: true, delivered: handOnAgain(user, key, message.sourceId) };
      ignored(user, message.sourceId);
      return { duplicate: true, delivered: running };
    };
    const filtered = await hooks.filter(user, message.peer);
    if (filtered) {
      log.info({ user, sourceId: message.sourceId, reason: filtered }, "message kept out by the user's policy");
      count("filtered");
      return { duplicate: false, filtered, delivered: Promise.resolve() };
    }
    const reaction = await reactionOf(user, message);
    const stored: StoredInbound = {
      ...message,
      sentAt: message.sentAt?.toISOString(),
      stanzaId: `sb-${key}`,
      takenAt: Date.now(),
      ...(reaction && { reaction }),
    };
    // "Seen before?" and "store it" are one statement.
    if ((await ledger.inboxAdd(key, user, stored, Date.now())) === "duplicate") return duplicate();
    // From here the message is stored, and its source sees a second delivery as a duplicate: nothing
    // may stop it from being sent now, or it would wait for the next start.
    try {
      const known = await contacts.get(user, message.peer);
      if (!known) {
        const nick = message.nick ? xmlText(message.nick, MAX_NICK_CHARS) || undefined : undefined;
        await contacts.remember(user, message.peer, nick ? { name: nick } : {});
        hooks.newContact(user, message.peer, nick).catch((error: unknown) => log.warn({ user, err: error }, "could not offer the new contact"));
      }
    } catch (error) {
      log.warn({ user, sourceId: message.sourceId, err: error }, "could not note the sender as a contact; the message goes on");
    }
    return { duplicate: false, delivered: send(key, stored) };
  }

  /** A phone's reaction text that quotes one of the user's recent messages to this sender, as the
   *  reaction it stands for; anything else (no such message, a plain text) arrives as it is. */
  async function reactionOf(user: BareJid, message: InboundMessage): Promise<StoredInbound["reaction"]> {
    if (!transport.capabilities.reactionTexts || !hooks.sentTo || (message.attachments?.length ?? 0) > 0) return undefined;
    const parsed = parseReactionText(message.body);
    if (!parsed) return undefined;
    try {
      const recent = await hooks.sentTo(user, message.peer);
      // A phone that reacts to a correction quotes it with its marker; the record holds the corrected text.
      const quoted = withoutCorrectionMarker(parsed.quoted.trimStart());
      const original = recent.find((entry) => quotesText(quoted, entry.excerpt, entry.excerpt.length >= EXCERPT_CHARS));
      // Clients name a message in a reaction by its origin id where it has one (XEP-0359), else its id.
      const id = original?.ids.at(-1);
      return id ? { id, emoji: parsed.emoji } : undefined;
    } catch (error) {
      log.warn({ user, err: error }, "could not look up the message a reaction text quotes; it arrives as text");
      return undefined;
    }
  }
}

/** The attachments one chat message shows, in order, within the count and URL-text bounds. */
function shownAttachments(attachments: readonly Attachment[]): Attachment[] {
  const shown: Attachment[] = [];
  let urlChars = 0;
  for (const attachment of attachments) {
    if (shown.length === MAX_SHOWN_ATTACHMENTS || urlChars + attachment.url.length > MAX_ATTACHMENT_URL_CHARS) break;
    urlChars += attachment.url.length;
    shown.push(attachment);
  }
  return shown;
}

function hiddenNote(hidden: number): string {
  const more = hidden === 1 ? "1 more attachment was" : `${hidden} more attachments were`;
  return `[${more} left out of this message: too many to show in one chat message.]`;
}
