// Starting a group conversation from XMPP: the user names the people and a subject, gets a room on
// the component (and the invitation), and their first message in it leaves as one mail to all.
// Replies to that mail come back into the room, as for a thread that began by mail.
import { randomUUID } from "node:crypto";
import { gatewayError } from "../../errors.js";
import type { BareJid } from "../../xmpp/jid.js";
import { keyValues, type Command } from "../handlers/commands/command.js";
import type { GroupContext } from "./context.js";
import { uniqueNick } from "./nicks.js";
import { roomLocalOf } from "./room-id.js";
import { newEpoch, type Room } from "./room-store.js";
import { invitation } from "./stanzas.js";

const MAX_PEOPLE = 50;

export function newGroupCommand(context: GroupContext): Command {
  const { gateway } = context;
  const { contacts, transport } = gateway;
  return {
    node: "new-group",
    name: "Start a group conversation",
    registeredOnly: true,
    form: async () => ({
      title: "Start a group conversation",
      instructions: `The people to write to, one ${transport.address.prompt.toLowerCase()} a line, and a subject. You get a group chat; what you write in it goes to all of them, and their answers come back into it.`,
      fields: [
        { var: "addresses", label: transport.address.prompt, type: "text-multi", required: true },
        { var: "subject", label: "Subject", type: "text-single", required: true },
      ],
    }),
    async run({ user }, values) {
      const words = (values.addresses ?? "").split(/[\s,;]+/).filter(Boolean);
      if (words.length === 0) throw gatewayError("bad-request", `Give the ${transport.address.prompt.toLowerCase()} of the people to write to.`);
      if (words.length > MAX_PEOPLE) throw gatewayError("not-acceptable", `A group conversation here has at most ${MAX_PEOPLE} people.`);
      const addresses = [...new Set(words.map((word) => contacts.parse(word)))];
      const subject = (values.subject ?? "")
        .replace(/[\r\n]+/g, " ")
        .trim()
        .slice(0, 500);
      if (!subject) throw gatewayError("bad-request", "Give the conversation a subject.");
      const room = await createRoom(context, user, addresses, subject);
      const roomJid = context.roomJid(room.local);
      await gateway.send(invitation(roomJid, user, room));
      await context.bookmarks.add(user, roomJid, subject, user.slice(0, user.indexOf("@")));
      return { note: `Your group chat with ${addresses.join(", ")} is ${roomJid}: join it, and your first message there goes to all of them.` };
    },
    chat: {
      keyword: "group",
      usage: 'group ADDRESS ADDRESS… subject="What it is about"',
      parse: (args) => {
        const fields = keyValues(args);
        const addresses = args.replace(/\w[\w-]*=("[^"]*"|\S*)/g, "").trim();
        return { ...fields, ...(addresses && { addresses }) };
      },
    },
  };
}

async function createRoom(context: GroupContext, user: BareJid, addresses: string[], subject: string): Promise<Room> {
  // A key no mail thread has: the thread begins with the user's first message.
  const key = `xmpp:${randomUUID()}`;
  const local = roomLocalOf(user, key);
  const participants: Room["participants"] = [];
  for (const address of addresses) {
    participants.push({
      address,
      field: "to",
      nick: uniqueNick(
        undefined,
        address,
        participants.map((participant) => participant.nick),
      ),
    });
  }
  const now = Date.now();
  const room: Room = {
    local,
    key,
    subject,
    participants,
    recipients: { to: addresses, cc: [] },
    createdAt: now,
    epoch: newEpoch(),
    first: 0,
    next: 0,
    invitedAt: now,
  };
  await context.rooms.save(user, room);
  return room;
}
