// A user's message out as one or more texts: split at word boundaries, paced per sender number,
// attachments as MMS media, and the provider's refusals turned into a SendResult the outbox acts on.
import type { Logger } from "pino";
import { GatewayError, recordAfterSend, type Table, type BareJid } from "../../src/transport/index.js";
import type { AccountState, Fields, OutboundMessage, SendResult } from "../../src/transport/contract.js";
import type { Accounts } from "./accounts.js";
import type { DailyCap } from "./daily-cap.js";
import type { Pacer } from "./pacing.js";
import { ProviderError, type SmsProvider } from "./provider.js";
import { earlierSends } from "./earlier-sends.js";
import { splitBody } from "./segments.js";
import type { StatusTracker } from "./status.js";

/** Texts of a message already accepted, so a retry after a failure part-way sends only the rest. */
interface SendProgress {
  ids: string[];
}

const PROGRESS_TTL_MS = 3 * 24 * 3_600_000;

export function createSender(options: {
  provider: SmsProvider;
  accounts: Accounts;
  status: StatusTracker;
  pacer: Pacer;
  cap: DailyCap;
  progress: Table<SendProgress>;
  statusUrl: () => string;
  /** Tells the user (as presence) whether their provider account works. */
  accountState(user: BareJid, state: AccountState): void;
  log: Logger;
}): (message: OutboundMessage, fields: Fields, group?: { to: string[] }) => Promise<SendResult> {
  const { provider, accounts, status, pacer, progress, log } = options;
  const brand = provider.displayName;
  const MAX_MEDIA = provider.limits.media;
  const findEarlier = earlierSends(provider, status);

  // A group text (send-group.ts picks its people) goes part by part the same way, as one group MMS each.
  return async (message, fields, group) => {
    let sender;
    try {
      sender = accounts.senderOf(fields);
    } catch (error) {
      return { kind: "permanent", reason: error instanceof GatewayError ? error.message : "Your registration is incomplete." };
    }
    const urls = message.attachments.map((attachment) => attachment.url);
    const media = urls.slice(0, MAX_MEDIA);
    // Attachments past MMS's limit still reach the contact, as links.
    // A text has no subject line: one the user wrote goes first rather than being lost.
    const body = [message.subject, message.body, ...urls.slice(MAX_MEDIA)].filter(Boolean).join("\n");
    const texts = splitBody(body, provider.limits.bodyChars);
    // Which parts left is kept only for a message of several texts: a single text has nothing to resume.
    const done = (texts.length > 1 ? await progress.get(message.id) : undefined) ?? { ids: [] };
    const context = { user: message.user, id: message.id, from: sender.from, parts: texts.length };

    // Held until each text is counted; what does not leave is given back at the end.
    let held = texts.length - done.ids.length;
    const refusal = await options.cap.hold(message.user, held);
    if (refusal) {
      log.info(context, "a user reached the daily number of texts");
      return { kind: "permanent", reason: refusal };
    }
    try {
      // A message an earlier process may have handed over: what the provider already has is not sent again.
      const earlier = message.uncertain && !group ? findEarlier(sender.account, { from: sender.from, to: message.peer }, message) : undefined;

      for (let index = done.ids.length; index < texts.length; index += 1) {
        try {
          const part = { from: sender.from, body: texts[index]!, mediaUrls: index === 0 ? media : [], statusCallback: options.statusUrl() };
          const found = await earlier?.({ body: part.body, media: part.mediaUrls.length }, done.ids).catch((error: unknown) => {
            // The provider will never answer this look-up (not a passing failure): send as before it.
            if (!(error instanceof ProviderError) || error.options.temporary || error.options.auth) throw error;
            log.warn({ ...context, err: error }, "could not ask the provider what it already has; sending the text again");
            return undefined;
          });
          if (found) log.info({ ...context, part: index + 1, providerId: found }, "the provider already had this text from before a restart; not sent again");
          else await pacer.take(sender.from);
          const { id } = found
            ? { id: found }
            : group && provider.sendGroup
              ? await provider.sendGroup(sender.account, { ...part, to: group.to })
              : await provider.send(sender.account, { ...part, to: message.peer });
          done.ids.push(id);
        } catch (error) {
          if (!(error instanceof ProviderError)) throw error;
          const { code, httpStatus, retryAfterMs, auth, rateLimited, unanswered } = error.options;
          let { temporary } = error.options;
          const providerCode = code ?? (httpStatus !== undefined ? `http-${httpStatus}` : undefined);
          if (auth) {
            const own = fields.mode === "own";
            options.accountState(message.user, {
              ok: false,
              reason: own
                ? `${brand} refuses your account's credentials; register again with the current ones.`
                : `The gateway's ${brand} account refuses its credentials; its operator has been told.`,
            });
            // The operator fixes the config and restarts: keep the user's texts until then.
            if (!own) {
              log.error({ ...context }, `${brand} refuses the operator account's credentials; fix them in transports.sms.operator`);
              temporary = true;
            }
          }
          if (temporary) {
            const reason =
              rateLimited || auth
                ? provider.describeError(code, error.message)
                : httpStatus
                  ? `${brand} answered HTTP ${httpStatus}; the gateway tries again later.`
                  : error.message;
            log.info({ ...context, part: index + 1, httpStatus, code }, "the provider could not take a text now");
            return { kind: "temporary", reason, providerCode, ...(retryAfterMs !== undefined && { retryAfterMs }), ...(unanswered && { unanswered }) };
          }
          await recordAfterSend(log, context, "what was sent of a refused message", () => status.complete(done.ids));
          await recordAfterSend(log, context, "what was sent of a refused message", () => progress.delete(message.id));
          const sentence =
            code !== undefined
              ? provider.describeError(code, error.message)
              : `${brand} refused the ${group ? "group text" : "text"}${httpStatus ? ` (HTTP ${httpStatus})` : ""}: ${error.message}`;
          const partly = done.ids.length > 0 ? `Only ${done.ids.length} of ${texts.length} parts were sent. ` : "";
          log.info({ ...context, part: index + 1, httpStatus, code }, "the provider refused a text");
          return { kind: "permanent", reason: `${partly}${sentence}`, providerCode };
        }
        // The provider has the text: from here a store failure must not make the outbox send it again.
        const part = { ...context, part: index + 1 };
        const partId = done.ids[index]!;
        held -= 1;
        await recordAfterSend(log, part, "the daily count", () => options.cap.count(message.user, 1));
        if (texts.length > 1) await recordAfterSend(log, part, "which parts left", () => progress.set(message.id, done, PROGRESS_TTL_MS));
        await recordAfterSend(log, part, "the text's provider id", () => status.partSent(done.ids[0]!, index, texts.length, partId, message.id));
      }
      // A single text was recorded as complete with its provider id (status.partSent).
      if (texts.length > 1) {
        await recordAfterSend(log, context, "that all parts left", () => status.complete(done.ids));
        await recordAfterSend(log, context, "that all parts left", () => progress.delete(message.id));
      }
      options.accountState(message.user, { ok: true });
      // Per text at debug (the messages metric counts them); refusals and failures stay at info.
      log.debug({ ...context, providerId: done.ids[0] }, "texts accepted by the provider");
      return { kind: "accepted", providerId: done.ids[0]! };
    } finally {
      options.cap.release(message.user, held);
    }
  };
}
