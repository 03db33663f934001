// What a user's message asks for beyond a body: a correction (XEP-0308), a reaction (XEP-0444) or a
// retraction (XEP-0424). Read from a hostile stanza: sizes are checked, the first element counts.
import { gatewayError } from "../../errors.js";
import type { Element } from "../../xmpp/xml.js";

export const FEATURE_NS = {
  correction: "urn:xmpp:message-correct:0",
  reactions: "urn:xmpp:reactions:0",
  retraction: "urn:xmpp:message-retract:1",
  chatStates: "http://jabber.org/protocol/chatstates",
  fallback: "urn:xmpp:fallback:0",
  originId: "urn:xmpp:sid:0",
} as const;

/** Ids of messages are short; a longer one points nowhere we could have recorded. */
const MAX_ID_CHARS = 256;
/** A reaction is one emoji, a few code points with its modifiers and joiners. */
const MAX_REACTION_CHARS = 32;
/** More distinct reactions than this on one message is not a person reacting. */
const MAX_REACTIONS = 20;

export type MessageFeature = { kind: "correction"; id: string } | { kind: "reaction"; id: string; emojis: string[] } | { kind: "retraction"; id: string };

/** The feature a message asks for, or undefined for a plain message. Throws a GatewayError (with a
 *  sentence for the user) when the element is there but unusable. */
export function messageFeature(stanza: Element): MessageFeature | undefined {
  const retract = stanza.getChild("retract", FEATURE_NS.retraction);
  if (retract) return { kind: "retraction", id: idOf(retract, "retraction") };
  const reactions = stanza.getChild("reactions", FEATURE_NS.reactions);
  if (reactions) return { kind: "reaction", id: idOf(reactions, "reaction"), emojis: emojisOf(reactions) };
  const replace = stanza.getChild("replace", FEATURE_NS.correction);
  if (replace) return { kind: "correction", id: idOf(replace, "correction") };
  return undefined;
}

function idOf(element: Element, what: string): string {
  const id = element.attrs.id;
  if (typeof id !== "string" || id.length === 0) throw gatewayError("bad-request", `This ${what} does not say which message it is about (no id).`);
  if (id.length > MAX_ID_CHARS)
    throw gatewayError("bad-request", `This ${what} names a message by an id of ${id.length} characters; ids are at most ${MAX_ID_CHARS}.`);
  return id;
}

function emojisOf(reactions: Element): string[] {
  const emojis = new Set<string>();
  for (const reaction of reactions.getChildren("reaction")) {
    const text = reaction.getText().trim();
    if (!text) continue;
    if (text.length > MAX_REACTION_CHARS)
      throw gatewayError("not-acceptable", `A reaction is one emoji; this one is ${text.length} characters long, so it was not sent.`);
    emojis.add(text);
    if (emojis.size > MAX_REACTIONS) throw gatewayError("not-acceptable", `A message takes at most ${MAX_REACTIONS} reactions; none of these was sent.`);
  }
  return [...emojis];
}

/** Whether a message carries something for the network, so that it must be recorded before it is
 *  handled (a body, or a reaction or retraction, which need none); chat states alone do not. */
export function carriesContent(stanza: Element): boolean {
  return Boolean(stanza.getChild("body") ?? stanza.getChild("reactions", FEATURE_NS.reactions) ?? stanza.getChild("retract", FEATURE_NS.retraction));
}

/** The ids a message is known by: its stanza id, and its XEP-0359 origin id when it has one. */
export function idsOf(stanza: Element): string[] {
  const origin = stanza.getChild("origin-id", FEATURE_NS.originId)?.attrs.id;
  return [...new Set([stanza.attrs.id, origin].filter((id): id is string => typeof id === "string" && id.length > 0 && id.length <= MAX_ID_CHARS))];
}
