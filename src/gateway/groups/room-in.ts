// A message of a group conversation from the legacy network: kept in its room's history (the room
// made on its first message, the user invited), then passed to the user's joined resources. A user
// who has not joined finds it in the history; nothing goes one-to-one (docs/groups.md).
import { gatewayError } from "../../errors.js";
import type { Delivery, GroupParticipant, InboundMessage } from "../../transport/contract.js";
import type { BareJid } from "../../xmpp/jid.js";
import type { GroupContext } from "./context.js";
import { cleanNick, uniqueNick } from "./nicks.js";
import { roomLocalOf } from "./room-id.js";
import { newEpoch, type Room } from "./room-store.js";
import { invitation, occupantPresence, roomMessage, subjectMessage } from "./stanzas.js";

/** A mail naming thousands of people does not make a room of thousands. */
const MAX_PARTICIPANTS = 50;
/** A user who never joined is invited again when new messages come, at most this often. */
const REINVITE_MS = 24 * 3_600_000;
const PREFIXES = /^\s*((re|fwd?|aw|wg|sv|vs|antw)(\[\d+\])?\s*:\s*)+/i;

/** The subject without its "Re:"/"Fwd:" prefixes: what says whether the topic changed. */
export const topicOf = (subject: string): string => subject.replace(PREFIXES, "").trim();

export async function deliverToRoom(context: GroupContext, message: InboundMessage & { group: NonNullable<InboundMessage["group"]> }): Promise<Delivery> {
  const { gateway } = context;
  const user = message.user as BareJid;
  if (!(await gateway.registrations.isRegistered(user))) {
    throw gatewayError("registration-required", `${user} is not registered with ${gateway.domain}; the message was not delivered.`, "not-registered");
  }
  // A room the user named by joining it is found through its conversation's own local part.
  const hashed = roomLocalOf(user, message.group.key);
  const local = (await context.named.aliasOf(user, hashed)) ?? hashed;
  // The user's policy decides whether a conversation starts; once its room exists, its mail comes in.
  const filtered = (await context.rooms.get(user, local)) ? undefined : await context.filter(user, message.peer);
  if (filtered) {
    gateway.log.info({ user, sourceId: message.sourceId, reason: filtered }, "group message kept out by the user's policy");
    gateway.metrics.messages.inc({ transport: gateway.transport.name, direction: "in", result: "filtered" });
    return { duplicate: false, filtered, delivered: Promise.resolve() };
  }
  const delivery = await context.perRoom.run(`${user}|${local}`, () => take(context, user, local, message));
  // Counted with the one-to-one messages (switchboard_messages_total), by the same outcomes.
  const count = (result: string): void => gateway.metrics.messages.inc({ transport: gateway.transport.name, direction: "in", result });
  if (delivery.filtered || delivery.duplicate) count(delivery.filtered ? "filtered" : "duplicate");
  else
    void delivery.delivered.then(
      () => count("delivered"),
      () => undefined,
    );
  return delivery;
}

async function take(
  context: GroupContext,
  user: BareJid,
  local: string,
  message: InboundMessage & { group: NonNullable<InboundMessage["group"]> },
): Promise<Delivery> {
  const { gateway, rooms, occupants } = context;
  const roomJid = context.roomJid(local);
  const known = await rooms.get(user, local);
  if (known?.leftAt !== undefined) {
    gateway.log.info({ user, room: local, sourceId: message.sourceId }, "a mail of a conversation the user left stays at its source");
    return { duplicate: false, filtered: "the user left this group conversation", delivered: Promise.resolve() };
  }
  if ((await rooms.sourceRoom(user, message.sourceId)) !== undefined && known) {
    gateway.log.info({ user, sourceId: message.sourceId }, "ignored a group message delivered before");
    // An invitation that could not be sent the first time is sent now.
    return { duplicate: true, delivered: invite(context, user, known, false) };
  }
  const now = Date.now();
  const subject = (message.subject ?? "").trim();
  const room: Room = known ?? {
    local,
    key: message.group.key,
    subject: subject || "(no subject)",
    participants: [],
    recipients: { to: [], cc: [] },
    createdAt: now,
    epoch: newEpoch(),
    first: 0,
    next: 0,
  };
  const added = addParticipants(room, message.group.participants);
  const renamed = nameParticipants(
    room,
    message.group.participants,
    occupants.of(user, local).map(([, nick]) => nick),
  );
  const others = message.group.participants.slice(0, MAX_PARTICIPANTS);
  room.recipients = {
    to: others.filter((participant) => participant.field !== "cc").map((participant) => participant.address),
    cc: others.filter((participant) => participant.field === "cc").map((participant) => participant.address),
  };
  const topic = topicOf(subject);
  const topicChanged =
    known !== undefined && subject !== "" && topic !== topicOf(room.subject) && (room.formerSubject === undefined || topic !== topicOf(room.formerSubject));
  if (topicChanged) {
    room.subject = subject;
    delete room.formerSubject;
    delete room.subjectToSend;
  }
  const sender = room.participants.find((participant) => participant.address === message.peer);
  const entry = await rooms.append(user, room, {
    at: now,
    nick:
      sender?.nick ??
      uniqueNick(
        message.nick,
        message.peer,
        room.participants.map((participant) => participant.nick),
      ),
    address: message.peer,
    body: message.body,
    ...(message.attachments?.length && { attachments: message.attachments }),
    ...(message.subject && { subject: message.subject }),
    ...(message.sentAt && { sentAt: message.sentAt.getTime() }),
  });
  await rooms.markSource(user, message.sourceId, local);
  // Joins run in the room's queue too: whoever joined before this point did not get this entry in
  // their history, and whoever joins after it will.
  const joined = occupants.of(user, local);
  gateway.log.info({ user, room: local, created: !known, joined: joined.length }, "group message kept in its room");
  const delivered = (async () => {
    await invite(context, user, room, !known);
    if (!known) await context.bookmarks.add(user, roomJid, room.subject, user.slice(0, user.indexOf("@")));
    for (const [full] of joined) {
      for (const { participant, before } of renamed) {
        // XEP-0045 §7.6: the old nick leaves with status 303 and the new one, then the new one comes.
        const item = { jid: gateway.contacts.jidOf(participant.address), affiliation: "member", role: "participant" } as const;
        await gateway.send(occupantPresence(roomJid, before, full, item, { codes: [303], unavailable: true, newNick: participant.nick }));
        await gateway.send(occupantPresence(roomJid, participant.nick, full, item));
      }
      for (const participant of added) {
        await gateway.send(
          occupantPresence(roomJid, participant.nick, full, { jid: gateway.contacts.jidOf(participant.address), affiliation: "member", role: "participant" }),
        );
      }
      await gateway.send(roomMessage(roomJid, full, entry, gateway.limits, { delayed: now - (entry.sentAt ?? now) > 60_000 }));
      if (topicChanged) await gateway.send(subjectMessage(roomJid, full, room, entry.nick));
    }
  })();
  return { duplicate: false, delivered };
}

function addParticipants(room: Room, participants: GroupParticipant[]): Room["participants"] {
  const added: Room["participants"] = [];
  for (const participant of participants) {
    if (room.participants.length >= MAX_PARTICIPANTS) break;
    if (room.participants.some((known) => known.address === participant.address)) continue;
    const nick = uniqueNick(
      participant.name,
      participant.address,
      room.participants.map((known) => known.nick),
    );
    const kept = { address: participant.address, field: participant.field, nick, ...(participant.name && { name: participant.name.slice(0, 200) }) };
    room.participants.push(kept);
    added.push(kept);
  }
  return added;
}

/** A participant first seen as a bare address takes the name a later message gives them as their
 *  nick, if it is usable and nobody else's (the user's own nicks in `reserved` included). A name
 *  once known stays: nicks do not follow every spelling a mail client puts in a header. */
function nameParticipants(
  room: Room,
  participants: GroupParticipant[],
  reserved: readonly string[],
): Array<{ participant: Room["participants"][number]; before: string }> {
  const renamed: Array<{ participant: Room["participants"][number]; before: string }> = [];
  for (const named of participants) {
    const known = room.participants.find((participant) => participant.address === named.address);
    if (!known || known.name || !named.name) continue;
    const wanted = cleanNick(named.name);
    if (!wanted) continue;
    known.name = named.name.slice(0, 200);
    const others = [...reserved, ...room.participants.filter((participant) => participant !== known).map((participant) => participant.nick)];
    const nick = uniqueNick(named.name, known.address, others);
    if (nick !== wanted || nick === known.nick) continue;
    renamed.push({ participant: known, before: known.nick });
    known.nick = nick;
  }
  return renamed;
}

/** Invites the user to a new room, or again to one they never joined (at most once a day). */
async function invite(context: GroupContext, user: BareJid, room: Room, isNew: boolean): Promise<void> {
  const now = Date.now();
  const due = isNew || room.invitedAt === undefined || (room.joinedAt === undefined && now - room.invitedAt > REINVITE_MS);
  if (!due) return;
  await context.gateway.send(invitation(context.roomJid(room.local), user, room));
  await context.perRoom.run(`${user}|${room.local}`, async () => {
    const current = (await context.rooms.get(user, room.local)) ?? room;
    current.invitedAt = now;
    await context.rooms.save(user, current);
  });
}
