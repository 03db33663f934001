// Puts contacts in a user's roster without manual work: a XEP-0356 privileged roster push when the
// server granted the transport roster access, else a XEP-0144 roster item suggestion to clients
// that advertise it, else a subscription request from the contact's JID.
import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Element } from "../../xmpp/xml.js";
import { xml } from "../../xmpp/xml.js";
import type { Gateway } from "../gateway.js";
import { NS } from "../gateway.js";

// Prosody's mod_privilege speaks version 2 of XEP-0356, ejabberd 23 still version 1; the roster
// part is the same in both.
export const NS_PRIVILEGE = ["urn:xmpp:privilege:2", "urn:xmpp:privilege:1"];

export function privilegeOf(message: Element): Element | undefined {
  return NS_PRIVILEGE.map((ns) => message.getChild("privilege", ns)).find(Boolean);
}

/** Privileges are the server's to grant: only a message from the server's own domain counts, not
 *  from a user, another component or a remote server (anyone can send a component a message). */
export function isFromServer(message: Element, serverDomain: string): boolean {
  return (message.attrs.from ?? "").toLowerCase() === serverDomain.toLowerCase();
}

export interface Roster {
  /** The server tells a component its privileges in a message right after it connects. */
  updatePrivileges(message: Element): void;
  add(user: string, address: string, name?: string): Promise<string>;
  readonly canPush: boolean;
}

const NS_ROSTERX = "http://jabber.org/protocol/rosterx";
const FEATURES_TTL_MS = 10 * 60_000;

export function createRoster(gateway: Gateway, request: (iq: Element) => Promise<Element>, onlineResources: (user: string) => string[]): Roster {
  const { contacts, log, domain, transport } = gateway;
  let rosterAccess = "none";
  // Keyed by full JID, which clients make up at will: bounded, least recently used out first.
  const rosterx = new LRUCache<string, { supported: boolean; until: number }>({ max: 10_000 });

  /** Whether the client at `full` advertises roster item exchange (asked once, then cached). */
  const suggestsRosterItems = async (full: string): Promise<boolean> => {
    const cached = rosterx.get(full);
    if (cached && cached.until > Date.now()) return cached.supported;
    let supported = false;
    try {
      const info = await request(xml("iq", { type: "get", from: domain, to: full, id: `disco-${randomUUID()}` }, xml("query", { xmlns: NS.discoInfo })));
      supported = (info.getChild("query")?.getChildren("feature") ?? []).some((feature) => feature.attrs.var === NS_ROSTERX);
    } catch {
      // no answer or an error: treat as not supported
    }
    rosterx.set(full, { supported, until: Date.now() + FEATURES_TTL_MS });
    return supported;
  };

  return {
    get canPush() {
      return rosterAccess === "set" || rosterAccess === "both";
    },
    updatePrivileges(message) {
      const privilege = privilegeOf(message);
      const roster = privilege?.getChildren("perm").find((perm) => perm.attrs.access === "roster");
      rosterAccess = roster?.attrs.type ?? "none";
      log.info(
        { roster: rosterAccess },
        rosterAccess === "none" ? "no roster privilege: contacts are offered by subscription request" : "server granted roster privilege (XEP-0356)",
      );
    },
    async add(user, address, given) {
      const jid = contacts.jidOf(address);
      // An encoded JID (u8-…, see stableLocal) says nothing to a person: the address names it.
      const name = given ?? (jid.startsWith("u8-") ? address : undefined);
      await contacts.remember(user as Parameters<typeof contacts.remember>[0], address, { ...(name && { name }), subscribed: true });
      if (this.canPush) {
        const push = (subscription?: string): Promise<Element> =>
          request(
            xml(
              "iq",
              { type: "set", from: domain, to: user, id: `roster-${randomUUID()}` },
              xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid, subscription, ...(name && { name }) }, xml("group", {}, transport.displayName))),
            ),
          );
        try {
          // Prosody lets a privileged entity set the subscription; a server that refuses that (as it
          // would from a client) gets the item without one, and a subscription request follows.
          const full = await push("both").then(
            () => true,
            async (error: Error & { stanza?: Element }) => {
              if (!error.stanza) throw error;
              await push();
              return false;
            },
          );
          if (full) return "it is in your roster now.";
        } catch (error) {
          // ejabberd 23.01 answers every privileged roster set with internal-server-error (its
          // mod_privilege looks for mod_roster on the component's host): stop trying on this link.
          rosterAccess = "none";
          log.warn({ user, err: error }, "the server refused a privileged roster push; offering contacts by subscription request from now on");
        }
      }
      const capable = [];
      for (const full of onlineResources(user)) if (await suggestsRosterItems(full)) capable.push(full);
      if (capable.length > 0) {
        for (const full of capable) {
          await gateway.send(
            xml(
              "message",
              { from: domain, to: full, id: randomUUID() },
              xml("body", {}, `Add ${name ? `${name} (${address})` : address} to your contacts?`),
              xml("x", { xmlns: NS_ROSTERX }, xml("item", { action: "add", jid, ...(name && { name }) }, xml("group", {}, transport.displayName))),
            ),
          );
        }
        return "your client offers to add it to your roster.";
      }
      await gateway.send(xml("presence", { type: "subscribe", from: jid, to: user }, name ? xml("nick", { xmlns: NS.nick }, name) : null));
      return "accept its subscription request to have it in your roster.";
    },
  };
}
