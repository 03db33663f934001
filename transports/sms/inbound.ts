// A verified inbound text or MMS: find whose number it reached, keep its media, hand it to the core.
import type { Logger } from "pino";
import { GatewayError } from "../../src/errors.js";
import type { MediaStore } from "../../src/http/media.js";
import { HttpError } from "../../src/http/router.js";
import type { AddressCodec, Attachment, Delivery, InboundMessage } from "../../src/transport/contract.js";
import type { Table } from "../../src/store/store.js";
import type { BareJid } from "../../src/xmpp/jid.js";
import type { Accounts } from "./accounts.js";
import { explainKeyword, keywordOf } from "./keywords.js";
import { ProviderError, type Params, type SmsProvider } from "./provider.js";

const HANDLED_TTL_MS = 7 * 24 * 3_600_000;

export function createInboundHandler(options: {
  provider: SmsProvider;
  accounts: Accounts;
  codec: AddressCodec;
  media: () => MediaStore;
  deliver: (message: InboundMessage) => Promise<Delivery>;
  /** MessageSids handed to the core: a repeated webhook is answered without fetching media again. */
  handled: Table<number>;
  maxMediaBytes: number;
  log: Logger;
}): (params: Params) => Promise<void> {
  const { provider, accounts, codec, log } = options;

  return async (params) => {
    let text;
    let from: string;
    let to: string;
    try {
      text = provider.readIncoming(params);
      from = codec.parse(text.from);
      to = codec.parse(text.to);
    } catch (error) {
      throw new HttpError(400, `Malformed inbound message webhook: ${(error as Error).message}`);
    }
    const context = { messageId: text.id, to };
    const binding = await accounts.bindingOf(to);
    // Texts to a number nobody holds are answered 200 all the same: an error would only make
    // Twilio log failures (and, with retries configured, post it again) with nobody to read it.
    if (!binding) {
      log.warn(context, "a text arrived for a number no user is bound to; dropped");
      return;
    }
    if (binding.accountSid !== text.accountId) {
      log.warn({ ...context, accountSid: text.accountId }, "a text arrived from a Twilio account that does not own the number's binding; dropped");
      return;
    }
    const user = binding.user as BareJid;
    // The core de-duplicates by MessageSid too; this only spares a second download of the media.
    if (await options.handled.has(text.id)) {
      log.info(context, "a webhook for a text handled before; acknowledged again");
      return;
    }
    // The account whose token signed this webhook owns the media too.
    const authToken = await accounts.tokenOf(text.accountId);
    const account = { accountSid: text.accountId, authToken: authToken ?? "" };

    const attachments: Attachment[] = [];
    const notes: string[] = [];
    for (const [index, item] of text.media.entries()) {
      try {
        const fetched = await provider.fetchMedia(account, item.url, options.maxMediaBytes);
        attachments.push(await options.media().put({ data: fetched.data, mediaType: item.mediaType || fetched.mediaType, name: `${text.id}-${index + 1}${extensionOf(item.mediaType || fetched.mediaType)}` }));
      } catch (error) {
        // The words still arrive; the user learns an attachment is missing and why.
        log.warn({ ...context, err: error instanceof ProviderError ? error.message : error }, "could not fetch an MMS attachment");
        notes.push(`[An attachment (${item.mediaType || "unknown type"}) could not be fetched from Twilio.]`);
      }
    }

    const keyword = keywordOf(text.body, text.keyword);
    const body = [explainKeyword(text.body, keyword), ...notes].filter(Boolean).join("\n");
    try {
      const delivery = await options.deliver({ user, peer: from, body, attachments, sourceId: text.id, sentAt: new Date() });
      if (!delivery.duplicate) log.info({ ...context, user, media: attachments.length, keyword, filtered: delivery.filtered }, "text stored for delivery");
      await options.handled.set(text.id, Date.now(), HANDLED_TTL_MS).catch((error: unknown) => log.warn({ ...context, err: error }, "could not note a handled text"));
    } catch (error) {
      if (error instanceof GatewayError && error.condition === "registration-required") {
        log.warn({ ...context, user }, "a text arrived for a user who is no longer registered; dropped");
        return;
      }
      // Not stored: make Twilio see a failure rather than acknowledge what we could not keep.
      log.error({ ...context, err: error }, "could not store an inbound text");
      throw new HttpError(503, "The gateway could not store this message; try again later");
    }
  };
}

function extensionOf(mediaType: string): string {
  const known: Record<string, string> = { "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp", "video/mp4": ".mp4", "audio/mpeg": ".mp3", "audio/amr": ".amr", "text/vcard": ".vcf", "text/x-vcard": ".vcf", "application/pdf": ".pdf" };
  return known[mediaType.toLowerCase()] ?? "";
}
