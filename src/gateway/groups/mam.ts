// XEP-0313 (MAM) on a hosted room: its history, paged with XEP-0059 (RSM) by archive id, so that a
// client that was away catches up when it joins again. Results are sent before the iq's answer, on
// the same stream, as the XEP asks.
import { gatewayError } from "../../errors.js";
import { xml, type Element } from "../../xmpp/xml.js";
import { NS } from "../gateway.js";
import type { IqRequest } from "../router.js";
import type { GroupContext } from "./context.js";
import { parseJid } from "../../xmpp/jid.js";
import type { HistoryEntry, PageQuery, Room } from "./room-store.js";
import { MUC, roomMessage } from "./stanzas.js";

const DEFAULT_MAX = 50;
const MAX_MAX = 100;

export async function onMamQuery(context: GroupContext, { payload, from, to }: IqRequest): Promise<Element> {
  const { gateway, rooms } = context;
  const room = await rooms.active(from.bare, to.local);
  if (!room) throw gatewayError("item-not-found", "There is no such group chat here.");
  const { query, fields } = parseQuery(payload);
  const match = matcherOf(context, from.bare, room, fields.get("with"));
  if (match) query.match = match;
  const page = await rooms.page(from.bare, room, query);
  const roomJid = context.roomJid(room.local);
  const queryId = payload.attrs.queryid;
  for (const entry of page.entries) {
    await gateway.send(
      xml(
        "message",
        { from: roomJid, to: from.full, id: `${entry.id}-${queryId ?? "q"}`.slice(0, 128) },
        xml(
          "result",
          { xmlns: MUC.mam, id: entry.id, ...(queryId && { queryid: queryId }) },
          xml(
            "forwarded",
            { xmlns: MUC.forward },
            xml("delay", { xmlns: NS.delay, stamp: new Date(entry.sentAt ?? entry.at).toISOString() }),
            roomMessage(roomJid, undefined, entry, gateway.limits, { forwarded: true }),
          ),
        ),
      ),
    );
  }
  const first = page.entries[0];
  const last = page.entries.at(-1);
  return xml(
    "fin",
    { xmlns: MUC.mam, ...(page.complete && { complete: "true" }) },
    xml("set", { xmlns: MUC.rsm }, first ? xml("first", {}, first.id) : null, last ? xml("last", {}, last.id) : null, xml("count", {}, String(page.count))),
  );
}

/** The fields a client may filter by (XEP-0313 §5): the time bounds and `with`. */
export function mamForm(): Element {
  return xml(
    "query",
    { xmlns: MUC.mam },
    xml(
      "x",
      { xmlns: NS.data, type: "form" },
      xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, MUC.mam)),
      xml("field", { var: "start", type: "text-single" }),
      xml("field", { var: "end", type: "text-single" }),
      xml("field", { var: "with", type: "jid-single" }),
    ),
  );
}

/** XEP-0313 §4.1.1 `with` in a room's archive: an occupant's JID (room@domain/nick) or a
 *  participant's contact JID gives that person's messages; the user's own bare JID (or their own
 *  nick) gives the user's; the room's bare JID gives all. A JID that is no one here gives nothing,
 *  as it matches no message; text that is no JID, or a contact JID that is no address, is refused. */
function matcherOf(context: GroupContext, user: string, room: Room, text: string | undefined): ((entry: HistoryEntry) => boolean) | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const value = text.trim();
  const shown = value.slice(0, 64);
  const jid = parseJid(value);
  // RFC 7622: a bare JID has no spaces or markup, its parts are not empty, and each is bounded.
  if (value.length > 3_071 || !jid.domain || /[\s<>"'@/]/u.test(jid.domain) || /[\s<>"'@]/u.test(jid.local) || (value.includes("/") && !jid.resource)) {
    throw gatewayError("bad-request", `The with field must be a JID, such as an occupant's room@domain/nick; "${shown}" is not one.`);
  }
  const own = (entry: HistoryEntry): boolean => entry.address === undefined;
  const of = (address: string) => (entry: HistoryEntry) => entry.address === address;
  if (jid.bare === context.roomJid(room.local)) {
    if (!jid.resource) return undefined;
    const participant = room.participants.find((candidate) => candidate.nick === jid.resource);
    if (participant) return of(participant.address);
    if (context.occupants.of(user, room.local).some(([, nick]) => nick === jid.resource)) return own;
    // A nick no one holds now: the messages sent under it (a participant's former nick).
    return (entry) => entry.nick === jid.resource;
  }
  if (jid.bare === user) return own;
  if (jid.domain === context.gateway.domain && jid.local) {
    let address: string;
    try {
      address = context.gateway.contacts.addressOf(jid.local);
    } catch {
      throw gatewayError("bad-request", `The with field "${shown}" is not the JID of a participant: its local part is no address.`);
    }
    return of(address);
  }
  return () => false;
}

function parseQuery(payload: Element): { query: PageQuery; fields: Map<string, string> } {
  const fields = new Map<string, string>();
  for (const field of payload.getChild("x", NS.data)?.getChildren("field") ?? []) {
    const name = field.attrs.var;
    if (name) fields.set(name, field.getChildText("value") ?? "");
  }
  const time = (name: string): number | undefined => {
    const text = fields.get(name);
    if (text === undefined || text === "") return undefined;
    const at = Date.parse(text);
    if (Number.isNaN(at)) throw gatewayError("bad-request", `The ${name} field must be a date and time (XEP-0082), not "${text.slice(0, 64)}".`);
    return at;
  };
  const set = payload.getChild("set", MUC.rsm);
  const maxText = set?.getChildText("max");
  const max = maxText ? Number(maxText) : DEFAULT_MAX;
  if (!Number.isInteger(max) || max < 0) throw gatewayError("bad-request", "RSM <max/> must be a whole number.");
  const after = set?.getChildText("after") ?? fields.get("after-id");
  const before = set?.getChild("before") ? (set.getChildText("before") ?? "") : fields.get("before-id");
  const start = time("start");
  const end = time("end");
  const query: PageQuery = {
    max: Math.min(max, MAX_MAX),
    ...(after && { after }),
    ...(before !== undefined && { before }),
    ...(start !== undefined && { start }),
    ...(end !== undefined && { end }),
  };
  return { query, fields };
}
