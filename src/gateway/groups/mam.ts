// XEP-0313 (MAM) on a hosted room: its history, paged with XEP-0059 (RSM) by archive id, so that a
// client that was away catches up when it joins again. Results are sent before the iq's answer, on
// the same stream, as the XEP asks.
import { gatewayError } from "../../errors.js";
import { xml, type Element } from "../../xmpp/xml.js";
import { NS } from "../gateway.js";
import type { IqRequest } from "../router.js";
import type { GroupContext } from "./context.js";
import type { PageQuery } from "./room-store.js";
import { MUC, roomMessage } from "./stanzas.js";

const DEFAULT_MAX = 50;
const MAX_MAX = 100;

export async function onMamQuery(context: GroupContext, { payload, from, to }: IqRequest): Promise<Element> {
  const { gateway, rooms } = context;
  const room = await rooms.active(from.bare, to.local);
  if (!room) throw gatewayError("item-not-found", "There is no such group chat here.");
  const query = parseQuery(payload);
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

/** The fields a client may filter by (XEP-0313 §5): only the time bounds; "with" is not offered. */
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
    ),
  );
}

function parseQuery(payload: Element): PageQuery {
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
  return {
    max: Math.min(max, MAX_MAX),
    ...(after && { after }),
    ...(before !== undefined && { before }),
    ...(start !== undefined && { start }),
    ...(end !== undefined && { end }),
  };
}
