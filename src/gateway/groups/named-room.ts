// A room made the way every XMPP client makes one (XEP-0045 §10.1): the user joins a JID of their
// choosing that is no contact and no room yet. It starts empty, owned by the user, usable at once
// (an instant room); invitations add people, and its first message starts a new conversation.
import { randomUUID } from "node:crypto";
import { gatewayError } from "../../errors.js";
import type { BareJid } from "../../xmpp/jid.js";
import type { GroupContext } from "./context.js";
import { roomLocalOf } from "./room-id.js";
import { roomName } from "./room-name.js";
import { newEpoch, type Room } from "./room-store.js";

/** Rooms one user may have made by joining a new name (those the mail made are not counted). */
export const MAX_NAMED_ROOMS = 20;

/** Makes the room `local` for the user unless it exists; true if this call made it. Refuses a
 *  hostile name, and a user who already has MAX_NAMED_ROOMS, in words. */
export async function openNamedRoom(context: GroupContext, user: BareJid, local: string): Promise<boolean> {
  const { rooms, named } = context;
  return context.perRoom.run(`${user}|${local}`, async () => {
    if (await rooms.active(user, local)) return false;
    const subject = roomName(local);
    return context.perRoom.run(`${user}|#named`, async () => {
      const owned = await named.names(user);
      if (owned.length >= MAX_NAMED_ROOMS) {
        throw gatewayError(
          "resource-constraint",
          `You already have ${owned.length} group chats made by joining a new name, the most this gateway keeps for one person. Destroy one you no longer need, then try again.`,
        );
      }
      // A key no conversation has: it begins with the user's first message, and the transport's
      // answers find the room again through the key's own local part (named-rooms.ts).
      const key = `xmpp:${randomUUID()}`;
      const now = Date.now();
      // The user is joining it: no invitation is due when the first answer comes.
      const room: Room = {
        local,
        key,
        subject,
        participants: [],
        recipients: { to: [], cc: [] },
        createdAt: now,
        invitedAt: now,
        joinedAt: now,
        epoch: newEpoch(),
        first: 0,
        next: 0,
        named: true,
      };
      await named.add(user, local, roomLocalOf(user, key));
      await rooms.save(user, room);
      context.gateway.log.info({ user, room: local }, "the user made a group chat by joining a new name");
      return true;
    });
  });
}
