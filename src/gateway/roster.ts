// Puts contacts in a user's roster without manual work: a XEP-0356 privileged roster push when the
// server granted the transport roster access, else a subscription request from the contact's JID.
import { randomUUID } from "node:crypto";
import type { Element } from "../xmpp/xml.js";
import { xml } from "../xmpp/xml.js";
import type { Gateway } from "./gateway.js";
import { NS } from "./gateway.js";

export const NS_PRIVILEGE = "urn:xmpp:privilege:2";

export interface Roster {
  /** The server tells a component its privileges in a message right after it connects. */
  updatePrivileges(message: Element): void;
  add(user: string, address: string, name?: string): Promise<string>;
  readonly canPush: boolean;
}

export function createRoster(gateway: Gateway, request: (iq: Element) => Promise<Element>): Roster {
  const { contacts, log, domain, transport } = gateway;
  let rosterAccess = "none";

  return {
    get canPush() {
      return rosterAccess === "set" || rosterAccess === "both";
    },
    updatePrivileges(message) {
      const privilege = message.getChild("privilege", NS_PRIVILEGE);
      const roster = privilege?.getChildren("perm").find((perm) => perm.attrs.access === "roster");
      rosterAccess = roster?.attrs.type ?? "none";
      log.info({ roster: rosterAccess }, rosterAccess === "none" ? "no roster privilege: contacts are offered by subscription request" : "server granted roster privilege (XEP-0356)");
    },
    async add(user, address, name) {
      const jid = contacts.jidOf(address);
      await contacts.remember(user as Parameters<typeof contacts.remember>[0], address, { ...(name && { name }), subscribed: true });
      if (this.canPush) {
        try {
          await request(
            xml(
              "iq",
              { type: "set", from: domain, to: user, id: `roster-${randomUUID()}` },
              xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid, subscription: "both", ...(name && { name }) }, xml("group", {}, transport.displayName))),
            ),
          );
          return "it is in your roster now.";
        } catch (error) {
          log.warn({ user, err: error }, "privileged roster push failed; falling back to a subscription request");
        }
      }
      await gateway.send(xml("presence", { type: "subscribe", from: jid, to: user }, name ? xml("nick", { xmlns: NS.nick }, name) : null));
      return "accept its subscription request to have it in your roster.";
    },
  };
}
