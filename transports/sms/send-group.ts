// A user's message in a group text's chat, out as one group MMS to all of its people (for each part
// of a long message), with the provider's refusals turned into a SendResult the outbox acts on.
import type { Logger } from "pino";
import { GatewayError, recordAfterSend, type Table } from "../../src/transport/index.js";
import type { AddressCodec, Fields, OutboundMessage, SendResult } from "../../src/transport/contract.js";
import type { Accounts } from "./accounts.js";
import type { DailyCap } from "./daily-cap.js";
import type { Pacer } from "./pacing.js";
import { groupKeyOf } from "./group-in.js";
import { ProviderError, type SmsProvider } from "./provider.js";
import { splitBody } from "./segments.js";

const PROGRESS_TTL_MS = 3 * 24 * 3_600_000;
/** A group not written to for this long forgets its room; its next text makes a new one. */
const GROUP_KEY_TTL_MS = 365 * 24 * 3_600_000;

export function createGroupSender(options: {
  provider: SmsProvider;
  accounts: Accounts;
  codec: AddressCodec;
  pacer: Pacer;
  cap: DailyCap;
  /** Parts already accepted, by outbox id, so a retry sends only the rest. */
  progress: Table<{ ids: string[] }>;
  /** A group the user started from XMPP has a key of the core's: answers to it must find its room. */
  groupKeys: Table<string>;
  statusUrl: () => string;
  log: Logger;
}): (message: OutboundMessage & { group: NonNullable<OutboundMessage["group"]> }, fields: Fields) => Promise<SendResult> {
  const { provider, accounts, codec, pacer, progress, log } = options;
  const brand = provider.displayName;
  const sendGroup = provider.sendGroup?.bind(provider);
  const most = provider.limits.groupRecipients ?? 0;

  return async (message, fields) => {
    if (!sendGroup) return { kind: "permanent", reason: `${brand} carries no group texts through this gateway.` };
    let sender;
    try {
      sender = accounts.senderOf(fields);
    } catch (error) {
      return { kind: "permanent", reason: error instanceof GatewayError ? error.message : "Your registration is incomplete." };
    }
    const recipients = new Set<string>();
    for (const address of [...message.group.to, ...message.group.cc]) {
      try {
        recipients.add(codec.parse(address));
      } catch {
        // A room's people came from verified webhooks and were parsed then; nothing to send to here.
      }
    }
    recipients.delete(sender.from);
    const to = [...recipients];
    if (to.length === 0) return { kind: "permanent", reason: "This group text has nobody left to write to." };
    if (to.length > most) {
      return { kind: "permanent", reason: `${brand} sends a group text to at most ${most} people; this group has ${to.length}. Nothing was sent.` };
    }
    const urls = message.attachments.map((attachment) => attachment.url);
    const media = urls.slice(0, provider.limits.media);
    const texts = splitBody([message.body, ...urls.slice(provider.limits.media)].filter(Boolean).join("\n"), provider.limits.bodyChars);
    const done = (await progress.get(message.id)) ?? { ids: [] };
    const context = { user: message.user, id: message.id, from: sender.from, recipients: to.length, parts: texts.length };
    const refusal = await options.cap.refusal(message.user, texts.length - done.ids.length);
    if (refusal) return { kind: "permanent", reason: refusal };

    for (let index = done.ids.length; index < texts.length; index += 1) {
      await pacer.take(sender.from);
      try {
        const { id } = await sendGroup(sender.account, {
          from: sender.from,
          to,
          body: texts[index]!,
          mediaUrls: index === 0 ? media : [],
          statusCallback: options.statusUrl(),
        });
        done.ids.push(id);
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        const { code, httpStatus, retryAfterMs, temporary, auth, rateLimited } = error.options;
        const providerCode = code ?? (httpStatus !== undefined ? `http-${httpStatus}` : undefined);
        log.info({ ...context, part: index + 1, httpStatus, code }, "the provider did not take a group text");
        // The operator's refused credentials are fixed by a restart: keep the message until then.
        if (temporary || (auth && fields.mode !== "own")) {
          return {
            kind: "temporary",
            reason: rateLimited || auth ? provider.describeError(code, error.message) : error.message,
            providerCode,
            ...(retryAfterMs !== undefined && { retryAfterMs }),
          };
        }
        await recordAfterSend(log, context, "what was sent of a refused group text", () => progress.delete(message.id));
        const partly = done.ids.length > 0 ? `Only ${done.ids.length} of ${texts.length} parts were sent. ` : "";
        const sentence =
          code !== undefined
            ? provider.describeError(code, error.message)
            : `${brand} refused the group text${httpStatus ? ` (HTTP ${httpStatus})` : ""}: ${error.message}`;
        return { kind: "permanent", reason: `${partly}${sentence}`, providerCode };
      }
      const part = { ...context, part: index + 1 };
      await recordAfterSend(log, part, "the daily count", () => options.cap.count(message.user, 1));
      if (texts.length > 1) await recordAfterSend(log, part, "which parts left", () => progress.set(message.id, done, PROGRESS_TTL_MS));
    }
    if (texts.length > 1) await recordAfterSend(log, context, "that all parts left", () => progress.delete(message.id));
    const texted = groupKeyOf(sender.from, to);
    if (texted !== message.group.key)
      await recordAfterSend(log, context, "which room the group's answers go to", () => options.groupKeys.set(texted, message.group.key, GROUP_KEY_TTL_MS));
    log.info({ ...context, providerId: done.ids[0] }, "group text accepted by the provider");
    return { kind: "accepted", providerId: done.ids[0]! };
  };
}
