// Whether a stanza to one of the component's local parts is for a room or a contact. A `thread-…`
// room never parses as an address; a name of the user's choosing is a room only once the user has
// one by that name, or when the stanza is a join (which makes it) or asks disco#info (a client about
// to create a room asks first, and reads item-not-found as "free to create", XEP-0045 §6.4).
// Anything else to a local part that is no address stays a contact's stanza, and gets the
// transport's own "not an address" error.
import type { ParsedJid } from "../../xmpp/jid.js";
import type { Element } from "../../xmpp/xml.js";
import type { GroupContext } from "./context.js";
import { isRoomLocal } from "./room-id.js";
import { NS } from "../gateway.js";
import { MUC } from "./stanzas.js";

export function roomTarget(context: GroupContext): (local: string, from: ParsedJid, stanza: Element) => Promise<boolean> {
  const isAddress = (local: string): boolean => {
    try {
      context.gateway.contacts.addressOf(local);
      return true;
    } catch {
      return false;
    }
  };
  return async (local, from, stanza) => {
    if (isRoomLocal(local)) return true;
    if (isAddress(local)) return false;
    if (stanza.name === "presence" && !stanza.attrs.type && stanza.getChild("x", MUC.muc)) return true;
    if (stanza.name === "iq" && stanza.attrs.type === "get" && stanza.getChild("query", NS.discoInfo)) return true;
    return (await context.rooms.active(from.bare, local))?.named === true;
  };
}
