// A new room goes into the user's bookmarks (XEP-0402, PEP node urn:xmpp:bookmarks:1) with
// autojoin, so that their clients join it by themselves. Only where the server lets the transport
// act on the user's PEP: a XEP-0356 (privilege:2) iq permission for pubsub, as Prosody's
// mod_privilege grants; elsewhere the invitation is all (docs/groups.md).
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { xml, type Element } from "../../xmpp/xml.js";
import { NS } from "../gateway.js";
import { privilegeOf } from "../handlers/roster.js";

const NS_PRIVILEGE = "urn:xmpp:privilege:2";
const NS_PUBSUB = "http://jabber.org/protocol/pubsub";
const NODE = "urn:xmpp:bookmarks:1";

export interface Bookmarks {
  /** The server's message that lists the component's privileges. */
  updatePrivileges(message: Element): void;
  add(user: string, roomJid: string, name: string, nick: string): Promise<void>;
  remove(user: string, roomJid: string): Promise<void>;
}

export function createBookmarks(options: { domain: string; log: Logger; request(iq: Element): Promise<Element> }): Bookmarks {
  const { domain, log, request } = options;
  let allowed = false;

  /** Sends `payload` as the user's own pubsub set (XEP-0356 §7). */
  const asUser = async (user: string, payload: Element): Promise<void> => {
    await request(
      xml(
        "iq",
        { type: "set", from: domain, to: user, id: `bookmark-${randomUUID()}` },
        xml("privileged_iq", { xmlns: NS_PRIVILEGE }, xml("iq", { xmlns: "jabber:client", type: "set", to: user, id: randomUUID() }, payload)),
      ),
    );
  };
  const field = (name: string, value: string): Element => xml("field", { var: name }, xml("value", {}, value));

  return {
    updatePrivileges(message) {
      const privilege = privilegeOf(message);
      const iq = privilege?.getChildren("perm").find((perm) => perm.attrs.access === "iq");
      const pubsub = iq?.getChildren("namespace").find((namespace) => namespace.attrs.ns === NS_PUBSUB);
      allowed = privilege?.attrs.xmlns === NS_PRIVILEGE && (pubsub?.attrs.type === "set" || pubsub?.attrs.type === "both");
      log.info({ bookmarks: allowed }, allowed ? "server lets the transport bookmark its rooms for users (XEP-0356)" : "rooms are offered by invitation only");
    },
    async add(user, roomJid, name, nick) {
      if (!allowed) return;
      try {
        await asUser(
          user,
          xml(
            "pubsub",
            { xmlns: NS_PUBSUB },
            xml(
              "publish",
              { node: NODE },
              xml("item", { id: roomJid }, xml("conference", { xmlns: NODE, name: name.slice(0, 200), autojoin: "true" }, xml("nick", {}, nick))),
            ),
            xml(
              "publish-options",
              {},
              xml(
                "x",
                { xmlns: NS.data, type: "submit" },
                field("FORM_TYPE", "http://jabber.org/protocol/pubsub#publish-options"),
                field("pubsub#persist_items", "true"),
                field("pubsub#max_items", "max"),
                field("pubsub#send_last_published_item", "never"),
                field("pubsub#access_model", "whitelist"),
              ),
            ),
          ),
        );
      } catch (error) {
        log.warn({ user, err: error }, "could not add a room to the user's bookmarks; the invitation stands");
      }
    },
    async remove(user, roomJid) {
      if (!allowed) return;
      try {
        await asUser(user, xml("pubsub", { xmlns: NS_PUBSUB }, xml("retract", { node: NODE, notify: "true" }, xml("item", { id: roomJid }))));
      } catch (error) {
        log.warn({ user, err: error }, "could not remove a room from the user's bookmarks");
      }
    },
  };
}
