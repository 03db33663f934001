// Stanzas the XMPP server refused (it closed the stream on them, sent alone): kept for the operator,
// and the user they were meant for hears that something did not arrive.
import { randomUUID } from "node:crypto";
import type { Table } from "../../store/store.js";
import { parseJid } from "../../xmpp/jid.js";
import { xml, type Element } from "../../xmpp/xml.js";
import type { Gateway } from "../gateway.js";

export interface DeadLetter {
  at: string;
  condition: string;
  stanza: string;
}

const KEEP_MS = 30 * 24 * 3_600_000;
const MAX_STANZA_CHARS = 256 * 1024;

export async function tellRefused(gateway: Gateway, table: Table<DeadLetter>, element: Element, condition: string): Promise<void> {
  const { to, from } = element.attrs;
  // Keyed by the user it was for, so that unregistering removes it with the rest of their data.
  await table.set(
    `${to ? parseJid(to).bare : ""}|${randomUUID()}`,
    { at: new Date().toISOString(), condition, stanza: element.toString().slice(0, MAX_STANZA_CHARS) },
    KEEP_MS,
  );
  // Only a user of ours is told, and never about a notice of ours (that could go round forever).
  if (!to || !from || from === gateway.domain || !(await gateway.registrations.isRegistered(parseJid(to).bare))) return;
  const sender = from.split("/")[0];
  const what = element.name === "message" ? `A message from ${sender}` : `A ${element.name} from ${sender}`;
  await gateway.send(
    xml(
      "message",
      { type: "chat", from: gateway.domain, to: parseJid(to).bare, id: randomUUID() },
      xml(
        "body",
        {},
        `${what} could not be handed to you: your XMPP server refused it (${condition}). It was set aside; the gateway's operator can find it in the log.`,
      ),
    ),
  );
}
