// XEP-0100 jabber:iq:gateway: turn an address a user typed into the contact JID to add.
import { gatewayError } from "../../errors.js";
import { xml } from "../../xmpp/xml.js";
import type { Gateway } from "../gateway.js";
import { NS } from "../gateway.js";
import type { Router } from "../router.js";

export function registerGatewayIq(router: Router, gateway: Gateway): void {
  const { address } = gateway.transport;
  router.iq("get", NS.gateway, "query", () => xml("query", { xmlns: NS.gateway }, xml("desc", {}, address.description), xml("prompt", {}, address.prompt)));
  router.iq("set", NS.gateway, "query", ({ payload }) => {
    const typed = payload.getChildText("prompt")?.trim();
    if (!typed) throw gatewayError("bad-request", `Put the ${address.prompt.toLowerCase()} to translate in a <prompt/> element.`);
    const canonical = gateway.contacts.parse(typed);
    const jid = gateway.contacts.jidOf(canonical);
    // <jid/> is the current form; <prompt/> keeps older clients working.
    return xml("query", { xmlns: NS.gateway }, xml("jid", {}, jid), xml("prompt", {}, jid));
  });
}
