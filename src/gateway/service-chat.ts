// Messages to the transport's own JID. For now it explains how to use the gateway.
import { randomUUID } from "node:crypto";
import { xml } from "../xmpp/xml.js";
import type { Gateway } from "./gateway.js";
import type { StanzaRequest } from "./router.js";

export function createServiceChat(gateway: Gateway): (request: StanzaRequest) => Promise<void> {
  const { transport, domain, registrations } = gateway;
  return async ({ from }) => {
    const registered = await registrations.isRegistered(from.bare);
    const example = transport.address.description;
    const text = registered
      ? `You are registered with ${transport.displayName}. ${example} Add contacts as ADDRESS@${domain} (your client can translate an address for you), or ask it to "add a contact" through ${domain}.`
      : `This is ${transport.displayName}. Register with ${domain} from your client's service discovery (it asks for the settings it needs), then write to contacts at ADDRESS@${domain}.`;
    await gateway.send(xml("message", { type: "chat", from: domain, to: from.full, id: randomUUID() }, xml("body", {}, text)));
  };
}
