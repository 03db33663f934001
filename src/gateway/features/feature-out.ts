// A user's correction, reaction or retraction, shaped by what the transport declared it does with
// them (Capabilities in src/transport/contract.ts): the text that goes, nothing, or a refusal in words.
// XEP-0308, XEP-0444, XEP-0424; docs/message-features.md says what each network gets and why.
import { gatewayError } from "../../errors.js";
import type { Capabilities } from "../../transport/contract.js";
import { featureText, refusal } from "./feature-texts.js";
import type { InboundRecord } from "../delivery/inbox.js";
import type { MessageFeature } from "./message-features.js";
import type { SentTexts } from "../state/sent-texts.js";

export interface FeatureOutDeps {
  sent: SentTexts;
  /** What the gateway knows of a message it delivered to the user, by its stanza id. */
  delivered(stanzaId: string): Promise<InboundRecord | undefined>;
}

export interface FeatureOutInput {
  feature: MessageFeature;
  capabilities: Capabilities;
  /** The transport's name for people, e.g. "SMS/MMS gateway". */
  network: string;
  user: string;
  peer: string;
  /** The message's outbox id: a reaction handled again (a replay) is answered as the first time. */
  messageId: string;
  /** The message's body: the new text of a correction; ignored otherwise (it is a client's fallback). */
  body: string | null;
  nick?: string;
}

/** What goes to the network instead; `corrects` names the message a correction replaces. */
export interface FeatureText {
  body: string;
  thread?: string;
  corrects?: string;
}

/** The text to send, or undefined when nothing goes (and nothing is wrong). Throws a GatewayError
 *  when the user must be told that nothing went. */
export async function featureOut(input: FeatureOutInput, deps: FeatureOutDeps): Promise<FeatureText | undefined> {
  const { feature, capabilities, user, peer } = input;
  switch (feature.kind) {
    case "correction": {
      if (capabilities.corrections === "none") throw gatewayError("feature-not-implemented", refusal.correction(input.network), "correction-refused");
      if (!input.body?.trim()) return undefined;
      // A correction of a message we have no record of (too old, or never sent) still goes: its
      // text is what the user wants read, and the marker says it replaces something earlier.
      const original = await deps.sent.find(user, peer, feature.id);
      return { body: featureText.correction(input.body), corrects: feature.id, ...(original?.thread !== undefined && { thread: original.thread }) };
    }
    case "reaction": {
      // Taking one's reactions away sends nothing: no network shows "un-liked".
      if (feature.emojis.length === 0) {
        await deps.sent.swapReactions(user, peer, feature.id, [], input.messageId);
        return undefined;
      }
      if (capabilities.reactions === "none") throw gatewayError("feature-not-implemented", refusal.reaction(input.network), "reaction-refused");
      // A client sends the whole set each time; only reactions added since the last one go.
      const before = await deps.sent.swapReactions(user, peer, feature.id, feature.emojis, input.messageId);
      const added = feature.emojis.filter((emoji) => !before.includes(emoji));
      if (added.length === 0) return undefined;
      return { body: featureText.reaction(added, await excerptOf(user, peer, feature.id, deps)) };
    }
    case "retraction": {
      if ((capabilities.retractions ?? "none") === "none")
        throw gatewayError("feature-not-implemented", refusal.retraction(input.network), "retraction-refused");
      const original = await deps.sent.find(user, peer, feature.id);
      // Nothing we know of went under this id: there is nothing to take back on the other side.
      if (!original) return undefined;
      return { body: featureText.retraction(input.nick, original.excerpt) };
    }
  }
}

/** The start of the message a reaction points at: one the user sent, or one they received from this contact. */
async function excerptOf(user: string, peer: string, id: string, deps: FeatureOutDeps): Promise<string | undefined> {
  const sent = await deps.sent.find(user, peer, id);
  if (sent) return sent.excerpt;
  const received = await deps.delivered(id);
  return received && received.peer === peer && received.user === user ? received.excerpt : undefined;
}
