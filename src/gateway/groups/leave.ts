// Leaving a group conversation for good (XEP-0045 §10.9, the owner destroys the room): its history
// goes, the user's joined resources are told, and later mail of the thread stays in the mailbox
// instead of coming back as a room. Leaving with presence unavailable only leaves until the next join.
// The same owner query carries the room's configuration (room-config.ts).
import { gatewayError } from "../../errors.js";
import { xml } from "../../xmpp/xml.js";
import type { Router } from "../router.js";
import type { GroupContext } from "./context.js";
import { acceptConfiguration, configurationForm, NS_MUC_OWNER } from "./room-config.js";
import { roomLocalOf } from "./room-id.js";
import { MUC } from "./stanzas.js";

export function registerLeave(router: Router, context: GroupContext): void {
  const { gateway, rooms, occupants } = context;
  const roomOf = async (user: Parameters<typeof rooms.active>[0], local: string) => {
    const room = await rooms.active(user, local);
    if (!room) throw gatewayError("item-not-found", "There is no such group chat here.");
    return room;
  };
  router.iq(
    "set",
    NS_MUC_OWNER,
    "query",
    async ({ from, to, payload }) => {
      const user = from.bare;
      if (!payload.getChild("destroy")) return acceptConfiguration(payload, await roomOf(user, to.local));
      const roomJid = context.roomJid(to.local);
      const joined = await context.perRoom.run(`${user}|${to.local}`, async () => {
        const room = await roomOf(user, to.local);
        await rooms.leave(user, room);
        if (room.named) {
          // The name is free again; its conversation's later answers stay at their source, as a thread's do.
          const hashed = roomLocalOf(user, room.key);
          await context.named.remove(user, room.local, hashed);
          await rooms.leave(user, { ...room, local: hashed });
        }
        return occupants.of(user, to.local).map(([full, nick]) => {
          occupants.leave(user, to.local, full);
          return [full, nick] as const;
        });
      });
      for (const [full, nick] of joined) {
        await gateway.send(
          xml(
            "presence",
            { type: "unavailable", from: `${roomJid}/${nick}`, to: full },
            xml(
              "x",
              { xmlns: MUC.user },
              xml("item", { affiliation: "none", role: "none" }),
              xml("destroy", {}, xml("reason", {}, "You left this mail thread; its further mail stays in your mailbox.")),
            ),
          ),
        );
      }
      await context.bookmarks.remove(user, roomJid);
      gateway.log.info({ user, room: to.local }, "the user left a group conversation");
    },
    ["room"],
  );
  router.iq("get", NS_MUC_OWNER, "query", async ({ from, to }) => configurationForm(await roomOf(from.bare, to.local)), ["room"]);
}
