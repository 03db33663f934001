// The stanzas of a hosted group chat (XEP-0045): occupant presences, room messages, the subject,
// direct invitations (XEP-0249), and errors on presence.
import { randomUUID } from "node:crypto";
import type { GatewayError } from "../../errors.js";
import { xml, xmlText, type Element } from "../../xmpp/xml.js";
import { NS } from "../gateway.js";
import { errorChild } from "../stanza-errors.js";
import type { HistoryEntry, Room } from "./room-store.js";

export const MUC = {
  muc: "http://jabber.org/protocol/muc",
  user: "http://jabber.org/protocol/muc#user",
  conference: "jabber:x:conference",
  mam: "urn:xmpp:mam:2",
  rsm: "http://jabber.org/protocol/rsm",
  forward: "urn:xmpp:forward:0",
  sid: "urn:xmpp:sid:0",
} as const;

/** The longest subject a room shows or a mail carries. */
export const MAX_SUBJECT = 500;

export interface Limits {
  maxBodyChars: number;
}

/** An occupant's presence: a participant (their real JID is the contact JID: the room is not
 *  anonymous), or one of the user's own resources. `codes`: XEP-0045 status codes. */
export function occupantPresence(
  roomJid: string,
  nick: string,
  to: string,
  item: { jid: string; affiliation: "owner" | "member"; role: "moderator" | "participant" | "none" },
  options: { codes?: number[]; unavailable?: boolean; newNick?: string } = {},
): Element {
  return xml(
    "presence",
    { from: `${roomJid}/${nick}`, to, ...(options.unavailable && { type: "unavailable" }) },
    xml(
      "x",
      { xmlns: MUC.user },
      xml("item", { ...item, ...(options.newNick && { nick: options.newNick }) }),
      ...(options.codes ?? []).map((code) => xml("status", { code: String(code) })),
    ),
  );
}

/** A message of the room's history, as sent live (delay only when it is old) or inside MAM. */
export function roomMessage(
  roomJid: string,
  to: string | undefined,
  entry: HistoryEntry,
  limits: Limits,
  options: { delayed?: boolean; forwarded?: boolean } = {},
): Element {
  const body = xmlText(entry.body, limits.maxBodyChars);
  const links = (entry.attachments ?? []).map((attachment) => attachment.url).filter((url) => !body.includes(url));
  const stamp = new Date(entry.sentAt ?? entry.at).toISOString();
  return xml(
    "message",
    {
      // XEP-0297: a forwarded stanza is in the client namespace, not in the one around it.
      ...(options.forwarded && { xmlns: "jabber:client" }),
      type: "groupchat",
      from: `${roomJid}/${entry.nick}`,
      ...(to && { to }),
      id: entry.stanzaId ?? entry.id,
    },
    xml("body", {}, [body, ...links].filter(Boolean).join("\n")),
    ...(entry.attachments ?? []).map((attachment) =>
      xml("x", { xmlns: NS.oob }, xml("url", {}, attachment.url), attachment.name ? xml("desc", {}, xmlText(attachment.name, 500)) : null),
    ),
    options.delayed ? xml("delay", { xmlns: NS.delay, from: roomJid, stamp }) : null,
    xml("stanza-id", { xmlns: MUC.sid, id: entry.id, by: roomJid }),
    entry.originId ? xml("origin-id", { xmlns: MUC.sid, id: entry.originId }) : null,
  );
}

/** The subject message, which ends a join (XEP-0045 §7.2.15). */
export function subjectMessage(roomJid: string, to: string, room: Room, from?: string): Element {
  return xml(
    "message",
    { type: "groupchat", from: from ? `${roomJid}/${from}` : roomJid, to, id: randomUUID() },
    xml("subject", {}, xmlText(room.subject, MAX_SUBJECT)),
  );
}

/** XEP-0249: a normal message to the bare JID, which the server keeps while the user is offline. */
export function invitation(roomJid: string, user: string, room: Room): Element {
  const names = room.participants.map((participant) => participant.nick).join(", ");
  const text = `A conversation with ${names}: "${room.subject}". Join the group chat ${roomJid} to read it and to answer everyone.`;
  return xml(
    "message",
    { from: roomJid, to: user, id: randomUUID() },
    xml("x", { xmlns: MUC.conference, jid: roomJid, reason: xmlText(room.subject, MAX_SUBJECT) }),
    xml("body", {}, xmlText(text, 2_000)),
  );
}

export function presenceError(stanza: Element, error: GatewayError): Element {
  return xml("presence", { type: "error", from: stanza.attrs.to, to: stanza.attrs.from, id: stanza.attrs.id }, xml("x", { xmlns: MUC.muc }), errorChild(error));
}
