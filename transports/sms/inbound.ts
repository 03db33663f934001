// A verified inbound text or MMS: find whose number it reached, keep its media, hand it to the core.
// A plain text is handed over before the provider gets its 200. An MMS is first kept as it came and
// answered at once (Twilio gives up on a webhook after 15 s, Telnyx after 2, and ten 5 MB downloads take longer);
// its media are then fetched and it is handed over, again after a restart if need be.
import type { Logger } from "pino";
import { GatewayError, type MediaStore, HttpError, type Table, type BareJid } from "../../src/transport/index.js";
import type { Attachment, Delivery, InboundMessage } from "../../src/transport/contract.js";
import type { Accounts } from "./accounts.js";
import type { PhoneCodec } from "./phone.js";
import { groupOf } from "./group-in.js";
import { explainKeyword, keywordOf } from "./keywords.js";
import { ProviderError, type IncomingText, type SmsProvider } from "./provider.js";

/** An MMS acknowledged to the provider whose media are still to be fetched. */
export interface PendingMms {
  text: IncomingText;
  user: string;
  from: string;
  receivedAt: number;
}

export interface InboundHandler {
  /** A verified inbound text; its accountId is the account whose signature checked out. */
  handle(text: IncomingText): Promise<void>;
  /** Finish the MMS an earlier run acknowledged but did not hand over. */
  resume(): Promise<number>;
  stop(): void;
}

const HANDLED_TTL_MS = 7 * 24 * 3_600_000;
/** Downloads that fail for a passing reason are tried this many times, a few seconds apart. */
const MEDIA_ATTEMPTS = 3;
const MEDIA_RETRY_MS = 2_000;

export function createInboundHandler(options: {
  provider: SmsProvider;
  accounts: Accounts;
  codec: PhoneCodec;
  media: () => MediaStore;
  deliver: (message: InboundMessage) => Promise<Delivery>;
  /** MMS handed to the core, by provider message id: a repeated webhook is answered without fetching media again. */
  handled: Table<number>;
  pending: Table<PendingMms>;
  /** Groups the user started from XMPP, by the key their texts have (group-in.ts) to the room's key. */
  groupKeys: Table<string>;
  maxMediaBytes: number;
  log: Logger;
}): InboundHandler {
  const { provider, accounts, codec, log } = options;
  const inFlight = new Map<string, Promise<void>>();
  const active = new Map<string, Promise<void>>();
  let stopped = false;

  /** Hands a text to the core; false when it could not be stored (the caller keeps it). */
  const handOver = async (entry: PendingMms, attachments: Attachment[], notes: string[]): Promise<boolean> => {
    const { text } = entry;
    const context = { messageId: text.id, user: entry.user };
    const keyword = keywordOf(text.body, text.keyword);
    const body = [explainKeyword(text.body, keyword), ...notes].filter(Boolean).join("\n");
    // Only where the gateway can answer a group as a group: otherwise each text stays one-to-one.
    const { group, dropped } = provider.sendGroup ? groupOf(codec, entry.from, codec.parse(text.to), text.recipients) : { dropped: 0 };
    if (dropped > 0) log.warn({ ...context, dropped }, "a group text listed recipients that are no phone numbers; left out");
    try {
      if (group) group.key = (await options.groupKeys.get(group.key)) ?? group.key;
      const delivery = await options.deliver({
        user: entry.user as BareJid,
        peer: entry.from,
        body,
        attachments,
        sourceId: text.id,
        sentAt: new Date(entry.receivedAt),
        ...(group && { group }),
      });
      // One line per text at debug, like the e-mail transport's per mail; a keyword (STOP, HELP…) is worth an info line.
      if (!delivery.duplicate)
        log[keyword ? "info" : "debug"]({ ...context, media: attachments.length, keyword, filtered: delivery.filtered }, "text stored for delivery");
    } catch (error) {
      if (error instanceof GatewayError && error.condition === "registration-required") {
        log.warn(context, "a text arrived for a user who is no longer registered; dropped");
        return true;
      }
      log.error({ ...context, err: error }, "could not store an inbound text");
      return false;
    }
    // A plain text posted again is the core's to recognise (its sourceId); an MMS is noted here
    // too, so that a repeated webhook does not download its media again.
    if (text.media.length > 0)
      await options.handled
        .set(text.id, Date.now(), HANDLED_TTL_MS)
        .catch((error: unknown) => log.warn({ ...context, err: error }, "could not note a handled text"));
    return true;
  };

  const fetchAll = async (entry: PendingMms): Promise<{ attachments: Attachment[]; notes: string[] }> => {
    const { text } = entry;
    // The account whose token signed the webhook owns the media too.
    const account = (await accounts.accountById(text.accountId)) ?? { id: text.accountId, credentials: {} };
    const attachments: Attachment[] = [];
    const notes: string[] = [];
    for (const [index, item] of text.media.entries()) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          const fetched = await provider.fetchMedia(account, item.url, options.maxMediaBytes);
          const mediaType = item.mediaType || fetched.mediaType;
          attachments.push(await options.media().put({ data: fetched.data, mediaType, name: `${text.id}-${index + 1}${extensionOf(mediaType)}` }));
          break;
        } catch (error) {
          const temporary = error instanceof ProviderError && error.options.temporary;
          if (temporary && attempt < MEDIA_ATTEMPTS && !stopped) {
            await new Promise((resolve) => setTimeout(resolve, MEDIA_RETRY_MS * attempt));
            continue;
          }
          // The words still arrive; the user learns an attachment is missing.
          log.warn({ messageId: text.id, reason: (error as Error).message, attempt }, "could not fetch an MMS attachment");
          notes.push(`[An attachment (${item.mediaType || "unknown type"}) could not be fetched from ${provider.displayName}.]`);
          break;
        }
      }
    }
    return { attachments, notes };
  };

  const finishMms = (entry: PendingMms): Promise<void> => {
    const id = entry.text.id;
    const running = inFlight.get(id);
    if (running) return running;
    const done = (async () => {
      const { attachments, notes } = await fetchAll(entry);
      if (stopped) return; // the next run starts over from the kept webhook
      if (await handOver(entry, attachments, notes)) await options.pending.delete(id);
    })()
      .catch((error: unknown) => log.warn({ messageId: id, err: error }, "could not finish an MMS; will try at next start"))
      .finally(() => inFlight.delete(id));
    inFlight.set(id, done);
    return done;
  };

  const accept = async (text: IncomingText, from: string, to: string): Promise<void> => {
    const context = { messageId: text.id, to };
    const binding = await accounts.bindingOf(to);
    // Texts to a number nobody holds are answered 200 all the same: an error would only make
    // the provider log failures (and post it again) with nobody to read it.
    if (!binding) {
      log.warn(context, "a text arrived for a number no user is bound to; dropped");
      return;
    }
    if (binding.accountSid !== text.accountId) {
      log.warn({ ...context, accountSid: text.accountId }, "a text arrived from a provider account that does not own the number's binding; dropped");
      return;
    }
    const entry: PendingMms = { text, user: binding.user, from, receivedAt: Date.now() };
    if (text.media.length === 0) {
      // A repeated post is recognised by the core, whose ledger records the provider's message id
      // in the same statement that stores the text (and answers it as a duplicate).
      // Not stored: make the provider see a failure rather than acknowledge what we could not keep.
      if (!(await handOver(entry, [], []))) throw new HttpError(503, "The gateway could not store this message; try again later");
      return;
    }
    // An MMS posted again is recognised here, before its media are downloaded a second time.
    if ((await options.handled.has(text.id)) || (await options.pending.has(text.id))) {
      log.info(context, "a webhook for an MMS handled before; acknowledged again");
      return;
    }
    try {
      await options.pending.set(text.id, entry);
    } catch (error) {
      log.error({ ...context, err: error }, "could not keep an inbound MMS");
      throw new HttpError(503, "The gateway could not store this message; try again later");
    }
    void finishMms(entry);
  };

  return {
    async handle(text) {
      let from: string;
      let to: string;
      try {
        from = codec.sender(text.from);
        to = codec.parse(text.to);
      } catch (error) {
        throw new HttpError(400, `Malformed inbound message webhook: ${(error as Error).message}`);
      }
      // A provider may post a text again while its first post is still being handled: one at a time
      // per message id, so the second finds the first's result instead of racing it.
      const id = text.id;
      const mine = (active.get(id) ?? Promise.resolve()).catch(() => undefined).then(() => accept(text, from, to));
      active.set(id, mine);
      try {
        await mine;
      } finally {
        if (active.get(id) === mine) active.delete(id);
      }
    },
    async resume() {
      let count = 0;
      for await (const [, entry] of options.pending.entries()) {
        count += 1;
        void finishMms(entry);
      }
      return count;
    },
    stop() {
      stopped = true;
    },
  };
}

function extensionOf(mediaType: string): string {
  const known: Record<string, string> = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "audio/mpeg": ".mp3",
    "audio/amr": ".amr",
    "text/vcard": ".vcf",
    "text/x-vcard": ".vcf",
    "application/pdf": ".pdf",
  };
  return known[mediaType.toLowerCase()] ?? "";
}
