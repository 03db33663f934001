// Mediated invitations (XEP-0045 §7.8.2): the user invites a contact JID of this component into a
// room. The address becomes a participant (an occupant for joined sessions), and the user's next
// message in the room goes to it too; that message is how the person learns of the conversation.
import { gatewayError } from "../../errors.js";
import { parseJid, type BareJid } from "../../xmpp/jid.js";
import type { Element } from "../../xmpp/xml.js";
import type { GroupContext } from "./context.js";
import { uniqueNick } from "./nicks.js";
import { isRoomLocal } from "./room-id.js";
import type { Room } from "./room-store.js";
import { MUC, occupantPresence } from "./stanzas.js";

/** As for a room made by mail: a room of thousands is not made by invitation either. */
const MAX_PARTICIPANTS = 50;
const MAX_INVITES = 20;

/** The <invite/> elements of a message, if it is a mediated invitation. */
export function invitesOf(stanza: Element): Element[] {
  return stanza.getChildren("x", MUC.user).flatMap((x) => x.getChildren("invite"));
}

export async function onInvites(context: GroupContext, user: BareJid, room: Room, invites: Element[]): Promise<void> {
  const { gateway, occupants } = context;
  if (invites.length > MAX_INVITES) throw gatewayError("not-acceptable", `Invite at most ${MAX_INVITES} people at a time; nobody was invited.`);
  // Every JID is checked before anyone is added: an invitation with one bad JID adds nobody.
  const addresses = [...new Set(invites.map((invite) => addressOf(context, invite.attrs.to)))];
  const added = await context.perRoom.run(`${user}|${room.local}`, async () => {
    const current = (await context.rooms.active(user, room.local)) ?? room;
    const fresh = addresses.filter((address) => !current.participants.some((participant) => participant.address === address));
    if (current.participants.length + fresh.length > MAX_PARTICIPANTS) {
      throw gatewayError("resource-constraint", `A group conversation here has at most ${MAX_PARTICIPANTS} people; nobody was invited.`);
    }
    const reserved = occupants.of(user, room.local).map(([, nick]) => nick);
    const people = fresh.map((address) => {
      const nick = uniqueNick(undefined, address, [...reserved, ...current.participants.map((participant) => participant.nick)]);
      const participant = { address, field: "cc" as const, nick };
      current.participants.push(participant);
      return participant;
    });
    // A room made by joining a new name has nobody to answer yet: the first invited is its To.
    const first = people[0];
    if (first && current.recipients.to.length === 0) current.recipients.to.push(first.address);
    if (people.length > 0) await context.rooms.save(user, current);
    return people;
  });
  const roomJid = context.roomJid(room.local);
  for (const [full] of occupants.of(user, room.local)) {
    for (const participant of added) {
      await gateway.send(
        occupantPresence(roomJid, participant.nick, full, { jid: gateway.contacts.jidOf(participant.address), affiliation: "member", role: "participant" }),
      );
    }
  }
  gateway.log.info({ user, room: room.local, invited: added.length }, "the user invited people into a group conversation");
}

/** The address an invitation's JID stands for: only a contact JID of this component has one. */
function addressOf(context: GroupContext, to: string | undefined): string {
  const { domain, contacts } = context.gateway;
  const shown = (to ?? "").slice(0, 100);
  const jid = parseJid(to ?? "");
  if (!to || jid.domain !== domain || !jid.local || jid.resource || isRoomLocal(jid.local)) {
    throw gatewayError(
      "bad-request",
      `"${shown}" is not a contact of ${domain}: invite a person by the JID they have here (${context.gateway.transport.address.prompt.toLowerCase()} as the local part). Nobody was invited.`,
    );
  }
  try {
    return contacts.addressOf(jid.local);
  } catch (error) {
    throw gatewayError("bad-request", `"${shown}" is not a contact of ${domain}: ${(error as Error).message} Nobody was invited.`);
  }
}
