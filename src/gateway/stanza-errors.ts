// The one place where a GatewayError becomes a stanza error with a condition and a human sentence.
import { type GatewayError, asGatewayError } from "../errors.js";
import { xml, type Element } from "../xmpp/xml.js";

const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

export function errorChild(error: GatewayError): Element {
  return xml("error", { type: error.type }, xml(error.condition, { xmlns: NS_STANZAS }), xml("text", { xmlns: NS_STANZAS, "xml:lang": "en" }, error.message));
}

/** The error answer to `stanza`: same name and id, addresses swapped. */
export function errorReply(stanza: Element, thrown: unknown): Element {
  const error = asGatewayError(thrown);
  const { from, to, id } = stanza.attrs;
  const reply = xml(stanza.name, { type: "error", from: to, to: from, id });
  // Echoing the request payload lets clients match the error to what they sent.
  if (stanza.name === "iq") {
    const payload = stanza.getChildElements()[0];
    if (payload) reply.append(payload);
  }
  reply.append(errorChild(error));
  return reply;
}
