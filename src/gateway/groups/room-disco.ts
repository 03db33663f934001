// What a hosted room says of itself (XEP-0030, XEP-0045 §6.4) and XEP-0410 self-pings, by which a
// client learns whether it is still in the room (after a restart of the gateway, it is not).
import { gatewayError } from "../../errors.js";
import { xml } from "../../xmpp/xml.js";
import { NS } from "../gateway.js";
import type { Router } from "../router.js";
import type { GroupContext } from "./context.js";
import { mamForm, onMamQuery } from "./mam.js";
import { isRoomLocal } from "./room-id.js";
import { MUC } from "./stanzas.js";

const NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin";

const ROOM_FEATURES = [
  NS.discoInfo,
  NS.discoItems,
  NS.ping,
  MUC.muc,
  MUC.mam,
  MUC.sid,
  "muc_nonanonymous",
  "muc_persistent",
  "muc_membersonly",
  "muc_unmoderated",
  "muc_unsecured",
  "muc_hidden",
];

/** Why there is no room here. A name that is no thread's may also be a mistyped contact: the
 *  sentence says both what it is not and how a room of that name is started. */
function noSuchRoom(context: GroupContext, local: string): string {
  if (isRoomLocal(local)) return "There is no such group chat here.";
  try {
    context.gateway.contacts.addressOf(local);
  } catch (error) {
    return `${error instanceof Error ? error.message : "This is no contact."} No group chat has this name either; joining it starts one.`;
  }
  return "There is no such group chat here.";
}

export function registerRoomIqs(router: Router, context: GroupContext): void {
  const roomOf = async (user: string, local: string) => {
    const room = await context.rooms.active(user, local);
    if (!room) throw gatewayError("item-not-found", noSuchRoom(context, local));
    return room;
  };
  router.iq(
    "get",
    NS.discoInfo,
    "query",
    async ({ from, to, payload }) => {
      if (payload.attrs.node) throw gatewayError("item-not-found", `There is no disco node "${payload.attrs.node}" here.`);
      const room = await roomOf(from.bare, to.local);
      return xml(
        "query",
        { xmlns: NS.discoInfo },
        xml("identity", { category: "conference", type: "text", name: room.subject.slice(0, 200) }),
        ...ROOM_FEATURES.sort().map((name) => xml("feature", { var: name })),
        xml(
          "x",
          { xmlns: NS.data, type: "result" },
          xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, "http://jabber.org/protocol/muc#roominfo")),
          xml("field", { var: "muc#roominfo_subject", label: "Subject" }, xml("value", {}, room.subject.slice(0, 500))),
          xml("field", { var: "muc#roominfo_occupants", label: "Number of occupants" }, xml("value", {}, String(room.participants.length + 1))),
        ),
      );
    },
    ["room"],
  );
  router.iq(
    "get",
    NS.discoItems,
    "query",
    async ({ from, to }) => {
      await roomOf(from.bare, to.local);
      return xml("query", { xmlns: NS.discoItems });
    },
    ["room"],
  );
  router.iq(
    "get",
    NS.ping,
    "ping",
    async ({ from, to }) => {
      await roomOf(from.bare, to.local);
      if (to.resource && context.occupants.nickOf(from.bare, to.local, from.full) !== to.resource) {
        throw gatewayError("not-acceptable", "You are not in this group chat (any more); join it again.");
      }
    },
    ["room"],
  );
  // The member list (XEP-0045 §9.5), which clients read to show a members-only room's people: the
  // participants are members, the user the owner; nobody is admin or banned.
  router.iq(
    "get",
    NS_MUC_ADMIN,
    "query",
    async ({ from, to, payload }) => {
      const room = await roomOf(from.bare, to.local);
      const affiliation = payload.getChild("item")?.attrs.affiliation;
      const items =
        affiliation === "member"
          ? room.participants.map((participant) =>
              xml("item", { affiliation: "member", jid: context.gateway.contacts.jidOf(participant.address), nick: participant.nick }),
            )
          : affiliation === "owner"
            ? [xml("item", { affiliation: "owner", jid: from.bare })]
            : [];
      return xml("query", { xmlns: NS_MUC_ADMIN }, ...items);
    },
    ["room"],
  );
  router.iq("set", MUC.mam, "query", (request) => onMamQuery(context, request), ["room"]);
  router.iq("get", MUC.mam, "query", () => mamForm(), ["room"]);
}
