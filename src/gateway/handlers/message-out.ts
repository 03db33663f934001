// A user's message to a contact JID: checked, turned into a normalized message, put in the outbox.
import { createHash, randomUUID } from "node:crypto";
import { gatewayError } from "../../errors.js";
import type { Table } from "../../store/store.js";
import type { Attachment, Capabilities } from "../../transport/contract.js";
import type { Element } from "../../xmpp/xml.js";
import type { Gateway } from "../gateway.js";
import { NS } from "../gateway.js";
import type { Outbox } from "../delivery/outbox.js";
import type { RateLimiter } from "../../transport/rate-limit.js";
import type { Router, StanzaRequest } from "../router.js";
import { isDeliveryId, type InboundRecord } from "../delivery/inbox.js";
import type { PreferenceStore } from "../state/preferences.js";
import type { Turn } from "../delivery/sender-lanes.js";
import { featureOut, type FeatureText } from "../features/feature-out.js";
import { FEATURE_NS, idsOf, messageFeature } from "../features/message-features.js";
import type { SentTexts } from "../state/sent-texts.js";

export interface MessageOutDeps {
  outbox: Outbox;
  rateLimiter: RateLimiter;
  /** What the gateway knows of a message it delivered: for replies and threads. */
  delivered(stanzaId: string): Promise<InboundRecord | undefined>;
  /** The user's server sent back (as `from`) a message the gateway delivered. */
  bounced(stanzaId: string, from: string, error: string | undefined): void;
  /** Messages to the transport's own JID (help, commands). */
  toService(request: StanzaRequest): Promise<void>;
  preferences: PreferenceStore;
  /** Messages per user per day, when the operator caps them (SMS costs money). */
  daily?: { limit: number; table: Table<number> };
  /** The message's place among its sender's messages (see sender-lanes.ts); none: handled alone. */
  turnOf?(stanza: Element): Turn | undefined;
  /** The user's recent messages per contact: what corrections, reactions and retractions point at. */
  sent: SentTexts;
}

export function registerMessageOut(router: Router, gateway: Gateway, deps: MessageOutDeps): void {
  const { registrations, contacts, limits, log } = gateway;

  router.onMessage(async (request) => {
    const { stanza, from, to, target } = request;
    const type = stanza.attrs.type ?? "normal";
    if (type === "error") {
      const { id } = stanza.attrs;
      const error = stanza.getChild("error")?.toString();
      // Only what came from a transport is lost to the user; receipts, markers and notices are not.
      if (!id || !isDeliveryId(id)) {
        log.info({ from: from.full, to: to.full, id, error }, "a message we sent bounced");
        return;
      }
      // The user's server refused or could not store a message from a contact (the user may also
      // have blocked the contact): the inbox tries again, and warns if it gives up.
      log.info({ from: from.full, to: to.full, id, error }, "a message we delivered bounced");
      gateway.metrics.messages.inc({ transport: gateway.transport.name, direction: "in", result: "bounced" });
      deps.bounced(id, from.bare, error);
      return;
    }
    if (type === "groupchat" || type === "headline") throw gatewayError("feature-not-implemented", `This gateway does not handle ${type} messages.`);
    const body = stanza.getChildText("body");
    const attachments = oobAttachments(stanza);
    // Reactions and retractions need no body; chat states (XEP-0085), receipts and markers alone
    // are never carried as text, and are taken without a word.
    const asks = target === "contact" && Boolean(stanza.getChild("reactions", FEATURE_NS.reactions) ?? stanza.getChild("retract", FEATURE_NS.retraction));
    if (body === null && attachments.length === 0 && !asks) return;

    if (target === "service") return deps.toService(request);

    const user = from.bare;
    if (!(await registrations.isRegistered(user))) {
      throw gatewayError("registration-required", `Register with ${gateway.domain} before sending messages through it.`);
    }
    const peer = contacts.addressOf(to.local);
    const feature = messageFeature(stanza);
    if ((body ?? "").length > limits.maxBodyChars) {
      throw gatewayError("not-acceptable", `This message is ${(body ?? "").length} characters long; this gateway carries at most ${limits.maxBodyChars}.`);
    }
    // The outbox key comes from the sender and stanza id, so a message handled twice (a client
    // resending, or the intake journal replaying after a crash) is stored and sent once.
    const stanzaId = stanza.attrs.id;
    const id = stanzaId ? createHash("sha256").update(`${user} ${stanzaId}`).digest("base64url").slice(0, 32) : randomUUID();
    if (stanzaId && (await deps.outbox.has(id))) {
      log.info({ user, stanzaId }, "ignored a repeated message id");
      return;
    }

    if (!deps.rateLimiter.take(user)) {
      throw gatewayError("resource-constraint", `You are sending faster than ${limits.messagesPerMinute} messages a minute; wait a moment and send again.`);
    }

    const replyTo = stanza.getChild("reply", NS.reply)?.attrs.id;
    const answered = replyTo ? await deps.delivered(replyTo) : undefined;
    const subject = stanza.getChildText("subject") ?? undefined;
    const nick = stanza.getChildText("nick", NS.nick) ?? (await deps.preferences.get(user)).displayName;
    // A correction, reaction or retraction becomes the text the transport's capabilities call for
    // (its body, if any, is a client's fallback for people without the feature), or nothing.
    let shaped: FeatureText | undefined;
    if (feature) {
      shaped = await featureOut(
        {
          feature,
          capabilities: gateway.transport.capabilities,
          network: gateway.transport.displayName,
          messageId: id,
          user,
          peer,
          body,
          ...(nick !== undefined && { nick }),
        },
        { sent: deps.sent, delivered: deps.delivered },
      );
      if (!shaped) return;
    }
    const text = shaped ? shaped.body : (body ?? "");
    const thread = stanza.getChildText("thread") ?? answered?.thread ?? shaped?.thread ?? undefined;

    // Everything above ran alongside the sender's earlier messages; from here on, in their order.
    const turn = deps.turnOf?.(stanza);
    await turn?.wait();
    if (deps.daily) {
      // Read and written in turn, so that two messages never count as one.
      const key = `${user} ${new Date().toISOString().slice(0, 10)}`;
      const sent = (await deps.daily.table.get(key)) ?? 0;
      if (sent >= deps.daily.limit) {
        log.info({ user, limit: deps.daily.limit }, "daily message cap reached");
        throw gatewayError(
          "policy-violation",
          `You have sent the ${deps.daily.limit} messages a day this gateway allows; this one was not sent. The count starts again at midnight UTC.`,
          "daily-cap",
        );
      }
      await deps.daily.table.set(key, sent + 1, 2 * 86_400_000);
    }
    // Queued now, before the insert: a correction, reaction or retraction right behind this message
    // reads the conversation's record after this write (sent-texts.ts runs them in turn).
    const remembering = rememberSentText(deps.sent, gateway.transport.capabilities, { user, peer, stanza, shaped, body, thread }).catch((error: unknown) =>
      log.warn({ user, err: error }, "could not note the message for later corrections and reactions"),
    );
    const taking = deps.outbox.enqueue({
      message: {
        id,
        user,
        peer,
        body: text,
        attachments: feature?.kind === "reaction" || feature?.kind === "retraction" ? [] : attachments,
        sentAt: new Date().toISOString(),
        sourceId: stanzaId ?? id,
        ...(subject !== undefined && { subject }),
        ...(thread !== undefined && { thread }),
        ...(answered && { inReplyTo: answered.sourceId }),
        ...(nick !== undefined && { nick }),
      },
      replyTo: from.full,
      contactJid: contacts.jidOf(peer),
      wantsReceipt: Boolean(stanza.getChild("request", NS.receipts)),
    });
    // Both ledgers fix the outbox's order at the call (ledger.ts): the next message may take its
    // place as soon as this one's insert is issued, not only once it is committed.
    turn?.pass();
    const taken = await taking;
    if (!taken) {
      log.info({ user, stanzaId }, "ignored a repeated message id");
      return;
    }
    // The message is taken: a failure from here on must not reach the sender as if it were not.
    await contacts
      .remember(user, peer, { wrote: true })
      .catch((error: unknown) => log.warn({ user, err: error }, "could not note that the user wrote to this contact"));
    await remembering;
  });
}

/** Where the transport sends corrections, the message's ids and thread are kept; where it quotes
 *  messages (reactions, deletion notes, phones' reaction texts), the start of its text too. */
async function rememberSentText(
  sent: SentTexts,
  capabilities: Capabilities,
  entry: { user: string; peer: string; stanza: Element; shaped: FeatureText | undefined; body: string | null; thread: string | undefined },
): Promise<void> {
  const { user, peer, shaped, body } = entry;
  const quotes = capabilities.reactions === "text" || capabilities.retractions === "note" || capabilities.reactionTexts === true;
  if (!quotes && capabilities.corrections === "none") return;
  if (shaped?.corrects !== undefined) return quotes ? sent.corrected(user, peer, shaped.corrects, body ?? "") : undefined;
  // A reaction or a deletion note is not itself something to react to.
  if (shaped || body === null) return;
  const thread = entry.thread !== undefined ? { thread: entry.thread } : {};
  await sent.remember(user, peer, { ids: idsOf(entry.stanza), excerpt: quotes ? body : "", at: Date.now(), ...thread });
}

function oobAttachments(stanza: Element): Attachment[] {
  return stanza
    .getChildren("x", NS.oob)
    .map((x) => ({ url: x.getChildText("url")?.trim() ?? "", desc: x.getChildText("desc") ?? undefined }))
    .filter((item) => /^https?:\/\//i.test(item.url))
    .map((item) => ({ url: item.url, ...(item.desc ? { name: item.desc } : {}) }));
}
