// vcard-temp for contact JIDs: the name the user gave the contact (or the one its mail carried)
// and the address itself, so clients show something better than an escaped JID.
import { xml } from "../../xmpp/xml.js";
import type { Gateway } from "../gateway.js";
import type { Router } from "../router.js";
import { shortened } from "./commands/answer-size.js";

const NS_VCARD = "vcard-temp";

export function registerVcard(router: Router, gateway: Gateway): void {
  const { contacts, transport } = gateway;
  router.iq(
    "get",
    NS_VCARD,
    "vCard",
    async ({ from, to, target }) => {
      if (target === "service") return xml("vCard", { xmlns: NS_VCARD }, xml("FN", {}, transport.displayName));
      const address = contacts.addressOf(to.local);
      const entry = await contacts.get(from.bare, address);
      // A name stored from a mail's From may be any length (older releases kept it whole).
      const name = entry?.name ? shortened(entry.name) : address;
      const field = transport.address.vcard?.(address);
      const contactCard = field
        ? xml(field.element, {}, ...field.children.map(([child, text]) => (text === undefined ? xml(child) : xml(child, {}, text))))
        : xml("NOTE", {}, address);
      return xml("vCard", { xmlns: NS_VCARD }, xml("FN", {}, name), xml("NICKNAME", {}, name), contactCard);
    },
    ["service", "contact"],
  );
}
