// The user's message to a hosted room: one message to all of the conversation's participants (a
// reply to all), through the durable outbox like any other, and echoed to the user's joined
// resources with the client's own id and origin-id (XEP-0045 §7.4, XEP-0359), as the room's.
import { createHash, randomUUID } from "node:crypto";
import { gatewayError } from "../../errors.js";
import type { Attachment } from "../../transport/contract.js";
import type { Element } from "../../xmpp/xml.js";
import { NS } from "../gateway.js";
import type { Outbox } from "../delivery/outbox.js";
import type { PreferenceStore } from "../state/preferences.js";
import type { RateLimiter } from "../../transport/rate-limit.js";
import type { StanzaRequest } from "../router.js";
import { FEATURE_NS } from "../features/message-features.js";
import type { Turn } from "../delivery/sender-lanes.js";
import type { GroupContext } from "./context.js";
import { MUC, roomMessage } from "./stanzas.js";
import { changeSubject } from "./subject.js";
import { invitesOf, onInvites } from "./invite.js";
import { topicOf } from "./room-in.js";
import type { Room } from "./room-store.js";

export interface RoomOutDeps {
  outbox: Outbox;
  rateLimiter: RateLimiter;
  preferences: PreferenceStore;
  turnOf?(stanza: Element): Turn | undefined;
}

export async function onRoomMessage(context: GroupContext, deps: RoomOutDeps, { stanza, from, to }: StanzaRequest): Promise<void> {
  const { gateway, rooms, occupants } = context;
  const { log, limits } = gateway;
  const type = stanza.attrs.type ?? "normal";
  if (type === "error") {
    log.info({ from: from.full, to: to.full, error: stanza.getChild("error")?.toString() }, "a room message we sent bounced");
    return;
  }
  const body = stanza.getChildText("body");
  const attachments = oobAttachments(stanza);
  const invites = invitesOf(stanza);
  if (invites.length > 0) {
    const inviter = from.bare;
    if (!(await gateway.registrations.isRegistered(inviter)))
      throw gatewayError("registration-required", `Register with ${gateway.domain} before inviting people to its group chats.`);
    const invitedTo = await rooms.active(inviter, to.local);
    if (!invitedTo) throw gatewayError("item-not-found", "There is no such group chat here.");
    await onInvites(context, inviter, invitedTo, invites);
    return;
  }
  if (type !== "groupchat") {
    if (body === null) return; // chat states, markers: nothing to answer
    throw gatewayError(
      "not-acceptable",
      to.resource
        ? "Private messages in this group chat are not carried; write to the person's own contact JID."
        : "Write to a group chat with type groupchat.",
    );
  }
  if (to.resource) throw gatewayError("bad-request", "A groupchat message goes to the room, not to one occupant.");
  const user = from.bare;
  if (!(await gateway.registrations.isRegistered(user)))
    throw gatewayError("registration-required", `Register with ${gateway.domain} before writing to its group chats.`);
  const room = await rooms.active(user, to.local);
  if (!room) throw gatewayError("item-not-found", "There is no such group chat here.");
  // A mail cannot be changed or taken back once it left, and one per emoji would only be noise; the
  // fallback bodies clients add to these must not leave as mail either (docs/groups.md).
  const feature = [FEATURE_NS.correction, FEATURE_NS.reactions, FEATURE_NS.retraction].find((ns) =>
    stanza.getChildElements().some((child) => child.attrs.xmlns === ns),
  );
  if (feature) {
    throw gatewayError(
      "feature-not-implemented",
      "Corrections, reactions and deletions are not sent to a mail thread's group chat: what was sent stands. Write a new message instead.",
    );
  }
  if (body === null && attachments.length === 0) {
    const subject = stanza.getChildText("subject");
    if (subject !== null) await changeSubject(context, user, room, subject, occupants.nickOf(user, room.local, from.full) ?? from.local);
    return; // chat states and markers are not carried
  }
  if ((body ?? "").length > limits.maxBodyChars) {
    throw gatewayError("not-acceptable", `This message is ${(body ?? "").length} characters long; this gateway carries at most ${limits.maxBodyChars}.`);
  }
  // To whom the latest mail names as its sender and To, Cc the rest of the room: a message in the
  // room reaches everyone the user sees in it, even after a mail that answered only some of them.
  const recipients = room.recipients.to;
  const cc = [...room.recipients.cc];
  for (const { address } of room.participants) if (!recipients.includes(address) && !cc.includes(address)) cc.push(address);
  const peer = recipients[0] ?? cc[0];
  if (!peer) throw gatewayError("not-acceptable", "Nobody is in this group chat yet: invite someone first, then write.");
  // As for one-to-one messages: the key comes from the sender and stanza id, so a message handled
  // twice (a client resending, the intake replaying after a crash) is stored and sent once.
  const stanzaId = stanza.attrs.id;
  const id = stanzaId ? createHash("sha256").update(`${user} ${stanzaId}`).digest("base64url").slice(0, 32) : randomUUID();
  if (stanzaId && (await deps.outbox.has(id))) {
    log.info({ user, stanzaId }, "ignored a repeated room message id");
    return;
  }
  if (!deps.rateLimiter.take(user)) {
    throw gatewayError("resource-constraint", `You are sending faster than ${limits.messagesPerMinute} messages a minute; wait a moment and send again.`);
  }
  const name = stanza.getChildText("nick", NS.nick) ?? (await deps.preferences.get(user)).displayName;
  const roomJid = context.roomJid(room.local);

  const turn = deps.turnOf?.(stanza);
  await turn?.wait();
  const taken = await deps.outbox.enqueue({
    message: {
      id,
      user,
      peer,
      body: body ?? "",
      attachments,
      sentAt: new Date().toISOString(),
      sourceId: stanzaId ?? id,
      group: { key: room.key, to: recipients, cc, subject: room.subject },
      ...(subjectOf(room) && { subject: subjectOf(room) }),
      ...(name !== undefined && { nick: name }),
    },
    replyTo: from.full,
    contactJid: roomJid,
    wantsReceipt: false,
  });
  turn?.pass();
  if (!taken) return;
  // Taken: from here on a failure must not reach the sender as if the message were not.
  try {
    const originId = stanza.getChild("origin-id", MUC.sid)?.attrs.id;
    const entry = await context.perRoom.run(`${user}|${room.local}`, async () => {
      const current = (await rooms.get(user, room.local)) ?? room;
      // The new subject is on its way in this message; the ones after answer it ("Re:").
      if (current.subjectToSend === room.subjectToSend) delete current.subjectToSend;
      return rooms.append(user, current, {
        at: Date.now(),
        nick: occupants.nickOf(user, room.local, from.full) ?? from.local,
        body: body ?? "",
        ...(attachments.length > 0 && { attachments }),
        ...(stanzaId && { stanzaId }),
        ...(originId && { originId }),
      });
    });
    for (const [full] of occupants.of(user, room.local)) await gateway.send(roomMessage(roomJid, full, entry, limits));
  } catch (error) {
    log.warn({ user, room: room.local, err: error }, "could not keep or echo a room message that is being sent");
  }
}

function oobAttachments(stanza: Element): Attachment[] {
  return stanza
    .getChildren("x", NS.oob)
    .map((x) => ({ url: x.getChildText("url")?.trim() ?? "", desc: x.getChildText("desc") ?? undefined }))
    .filter((item) => /^https?:\/\//i.test(item.url))
    .map((item) => ({ url: item.url, ...(item.desc ? { name: item.desc } : {}) }));
}

/** A subject the user set leaves as it is in the next message, then as "Re:" it (even after a late
 *  answer to the old one); otherwise the transport answers the latest message's own subject. */
function subjectOf(room: Room): string | undefined {
  if (room.subjectToSend) return room.subjectToSend;
  return room.formerSubject === undefined ? undefined : `Re: ${topicOf(room.subject)}`;
}
