// The user changes a room's subject (XEP-0045 §8.1: a groupchat message with a <subject/> and no
// body). Every joined resource gets the new subject from the user's nick, and the conversation's
// next message leaves with it as its own subject (a new topic, not "Re:" the old one).
import { gatewayError } from "../../errors.js";
import type { BareJid } from "../../xmpp/jid.js";
import type { GroupContext } from "./context.js";
import type { Room } from "./room-store.js";
import { MAX_SUBJECT, subjectMessage } from "./stanzas.js";

// Controls and format characters (bidi overrides, zero-width) have no place in a one-line header.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029\uFFF9-\uFFFD]/gu;

/** The subject as the user typed it, on one line; refused in words when it cannot be one. */
export function cleanSubject(text: string): string {
  if (text.length > MAX_SUBJECT * 4) {
    throw gatewayError("not-acceptable", `A subject here has at most ${MAX_SUBJECT} characters; this one has ${text.length}. The subject did not change.`);
  }
  const subject = text
    .replace(/[\r\n\t]+/g, " ")
    .replace(UNPRINTABLE, "")
    .replace(/\s+/gu, " ")
    .trim();
  if (!subject) throw gatewayError("bad-request", "A mail thread needs a subject; an empty one cannot be set. The subject did not change.");
  if (Array.from(subject).length > MAX_SUBJECT) {
    throw gatewayError(
      "not-acceptable",
      `A subject here has at most ${MAX_SUBJECT} characters; this one has ${Array.from(subject).length}. The subject did not change.`,
    );
  }
  return subject;
}

export async function changeSubject(context: GroupContext, user: BareJid, room: Room, text: string, nick: string): Promise<void> {
  const { gateway, occupants } = context;
  if (!gateway.transport.capabilities.subject) {
    throw gatewayError("forbidden", "These conversations carry no subject; it cannot be changed here.");
  }
  const subject = cleanSubject(text);
  const changed = await context.perRoom.run(`${user}|${room.local}`, async () => {
    const current = (await context.rooms.active(user, room.local)) ?? room;
    if (current.subject === subject) return current;
    // The old topic is remembered so that a late answer to it ("Re: <old>") does not undo the change.
    current.formerSubject = current.subject;
    current.subject = subject;
    current.subjectToSend = subject;
    await context.rooms.save(user, current);
    return current;
  });
  const roomJid = context.roomJid(room.local);
  for (const [full] of occupants.of(user, room.local)) await gateway.send(subjectMessage(roomJid, full, changed, nick));
  gateway.log.info({ user, room: room.local }, "the user changed a group chat's subject");
}
