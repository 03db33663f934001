// Joining and leaving a hosted room (XEP-0045 §7.2, §7.14): the participants as occupants, the
// user's own presence (status 110), the recent history, then the subject, which ends the join.
import { asGatewayError, gatewayError } from "../../errors.js";
import type { Element } from "../../xmpp/xml.js";
import type { StanzaRequest } from "../router.js";
import type { GroupContext } from "./context.js";
import { openNamedRoom } from "./named-room.js";
import { isRoomLocal } from "./room-id.js";
import type { Room } from "./room-store.js";
import { MUC, occupantPresence, presenceError, roomMessage, subjectMessage } from "./stanzas.js";

/** History sent on joining when the client does not say how much (it may ask MAM for more). */
const DEFAULT_HISTORY = 20;
/** Status codes of the user's own presence: 110 this is you, 100 real JIDs are visible, 170 the room is archived. */
const SELF_CODES = [110, 100, 170];

export async function onRoomPresence(context: GroupContext, request: StanzaRequest): Promise<void> {
  const { stanza } = request;
  try {
    await handle(context, request);
  } catch (thrown) {
    const error = asGatewayError(thrown);
    if (error.condition === "internal-server-error") throw thrown;
    context.gateway.log.info({ from: request.from.full, room: request.to.local, reason: error.message }, "room presence refused");
    if (!stanza.attrs.type) await context.gateway.send(presenceError(stanza, error));
  }
}

async function handle(context: GroupContext, { stanza, from, to }: StanzaRequest): Promise<void> {
  const { gateway, rooms, occupants } = context;
  const user = from.bare;
  const type = stanza.attrs.type;
  if (type === "unavailable" || type === "error") {
    const nick = occupants.leave(user, to.local, from.full);
    if (nick !== undefined && type === "unavailable") {
      await gateway.send(
        occupantPresence(
          context.roomJid(to.local),
          nick,
          from.full,
          { jid: from.full, affiliation: "owner", role: "none" },
          { codes: [110], unavailable: true },
        ),
      );
    }
    return;
  }
  if (type) return; // subscriptions and probes mean nothing to a room
  const nick = to.resource;
  if (!nick) throw gatewayError("jid-malformed", "Join a group chat with a nickname: room@domain/nick.");
  if (!(await gateway.registrations.isRegistered(user)))
    throw gatewayError("registration-required", `Register with ${gateway.domain} to join its group chats.`);
  // Joining a name that is no room yet makes it (XEP-0045 §10.1); a `thread-…` room is made by its conversation only.
  const created = !isRoomLocal(to.local) && stanza.getChild("x", MUC.muc) !== undefined && (await openNamedRoom(context, user, to.local));
  const room = await rooms.active(user, to.local);
  if (!room) throw gatewayError("item-not-found", "There is no such group chat here.");
  const taken = room.participants.find((participant) => participant.nick.toLowerCase() === nick.toLowerCase());
  if (taken) throw gatewayError("conflict", `"${nick}" is the nickname of ${taken.address} in this group chat; choose another.`);

  const roomJid = context.roomJid(to.local);
  const self = { jid: from.full, affiliation: "owner", role: "moderator" } as const;
  const before = occupants.nickOf(user, to.local, from.full);
  // A presence with <x xmlns='…muc'/> is a join, even from a resource we think is in (a client that
  // lost its connection without the server telling us): it gets the whole join again.
  if (before !== undefined && !stanza.getChild("x", MUC.muc)) {
    // Already in: a status change, or a new nick (§7.6), told as the old nick leaving.
    if (before !== nick) {
      await gateway.send(occupantPresence(roomJid, before, from.full, self, { codes: [110, 303], unavailable: true, newNick: nick }));
      occupants.join(user, to.local, from.full, nick);
    }
    await gateway.send(occupantPresence(roomJid, nick, from.full, self, { codes: [110] }));
    return;
  }

  // In the room's queue: a message arriving meanwhile comes either in the history or live, never both.
  const codes = created ? [...SELF_CODES, 201] : SELF_CODES;
  await context.perRoom.run(`${user}|${to.local}`, () => enter(context, { from, to }, nick, stanza.getChild("x", MUC.muc)?.getChild("history"), codes));
}

async function enter(
  context: GroupContext,
  { from, to }: Pick<StanzaRequest, "from" | "to">,
  nick: string,
  asked: Element | undefined,
  codes: number[],
): Promise<void> {
  const { gateway, rooms, occupants } = context;
  const user = from.bare;
  const room = await rooms.active(user, to.local);
  if (!room) throw gatewayError("item-not-found", "There is no such group chat here.");
  const roomJid = context.roomJid(to.local);
  const self = { jid: from.full, affiliation: "owner", role: "moderator" } as const;
  occupants.join(user, to.local, from.full, nick);
  for (const participant of room.participants) {
    await gateway.send(
      occupantPresence(roomJid, participant.nick, from.full, { jid: gateway.contacts.jidOf(participant.address), affiliation: "member", role: "participant" }),
    );
  }
  for (const [full, other] of occupants.of(user, to.local)) {
    if (full !== from.full && other !== nick) await gateway.send(occupantPresence(roomJid, other, from.full, { ...self, jid: full }));
  }
  await gateway.send(occupantPresence(roomJid, nick, from.full, self, { codes }));
  for (const entry of await history(context, user, room, asked)) {
    await gateway.send(roomMessage(roomJid, from.full, entry, gateway.limits, { delayed: true }));
  }
  await gateway.send(subjectMessage(roomJid, from.full, room));
  room.joinedAt = Date.now();
  await rooms.save(user, room);
}

/** The history a join asks for (XEP-0045 §7.2.14): maxstanzas, seconds, since; maxchars="0" is none. */
async function history(context: GroupContext, user: string, room: Room, asked: Element | undefined) {
  const number = (name: string): number | undefined => {
    const value = asked?.attrs[name];
    const parsed = value === undefined ? Number.NaN : Number(value);
    return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
  };
  if (number("maxchars") === 0) return [];
  const max = Math.min(number("maxstanzas") ?? DEFAULT_HISTORY, 100);
  if (max === 0) return [];
  const seconds = number("seconds");
  const since = asked?.attrs.since ? Date.parse(asked.attrs.since) : Number.NaN;
  const after = Math.max(seconds !== undefined ? Date.now() - seconds * 1000 : 0, Number.isNaN(since) ? 0 : since);
  return (await context.rooms.recent(user, room, max)).filter((entry) => entry.at >= after);
}
