// What the group-chat tests share on every transport: their people, the namespaces, joining a room
// and what the join brings (XEP-0045), invitations (XEP-0249), errors from a room, starting a group
// by chat command, the room's archive (XEP-0313 with RSM paging) and the raw text of a mail.
import type { Store } from "../../src/store/store.js";
import { xml, type Element, type TestClient } from "./xmpp-client.js";

export const MUC = "http://jabber.org/protocol/muc";
export const MUC_USER = `${MUC}#user`;
export const MUC_OWNER = `${MUC}#owner`;
export const MAM = "urn:xmpp:mam:2";
export const RSM = "http://jabber.org/protocol/rsm";
const CONFERENCE = "jabber:x:conference";
const STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

/** The people of the group tests: their mail addresses, and their numbers (OURS is the user's own). */
export const ADDRESSES = {
  JULIET: "juliet@capulet.test",
  ROMEO: "romeo@montague.test",
  NURSE: "nurse@capulet.test",
  FRIAR: "laurence@friary.test",
  TYBALT: "tybalt@capulet.test",
  BENVOLIO: "benvolio@montague.test",
} as const;
export const NUMBERS = {
  OURS: "+14155550100",
  ROMEO: "+14155550123",
  NURSE: "+14155550124",
  FRIAR: "+14155550125",
  TYBALT: "+14155550131",
  BENVOLIO: "+14155550132",
} as const;

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const isInvitation = (stanza: Element): boolean => stanza.name === "message" && stanza.getChild("x", CONFERENCE) !== undefined;
/** The room an invitation is for. */
export const invitedTo = (stanza: Element): string => stanza.getChild("x", CONFERENCE)?.attrs.jid ?? "";
export const fromRoom = (room: string) => (stanza: Element) => stanza.attrs.from?.split("/")[0] === room;
export const groupchatIn = (room: string, body: string) => (stanza: Element) =>
  stanza.name === "message" && stanza.attrs.type === "groupchat" && fromRoom(room)(stanza) && stanza.getChildText("body") === body;
/** A groupchat message in `room` whose body begins with `start` (a body with a link after it). */
export const groupchatStartingWith = (room: string, start: string) => (stanza: Element) =>
  stanza.name === "message" && stanza.attrs.type === "groupchat" && fromRoom(room)(stanza) && (stanza.getChildText("body") ?? "").startsWith(start);
export const errorFor = (id: string) => (stanza: Element) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === id;
/** The words of a stanza error. */
export const errorWords = (stanza: Element): string => stanza.getChild("error")?.getChildText("text", STANZAS) ?? "";
/** The link of an out-of-band attachment (XEP-0066), or "". */
export const oobUrl = (stanza: Element): string => stanza.getChild("x", "jabber:x:oob")?.getChildText("url") ?? "";

/** Writes `body` in `room` as message `id` and waits for the error the room answers with. */
export async function refusedMessage(client: TestClient, room: string, id: string, body: string): Promise<{ from: string | undefined; words: string }> {
  await client.send(xml("message", { to: room, type: "groupchat", id }, xml("body", {}, body)));
  const error = await client.waitFor(errorFor(id), 10_000);
  return { from: error.attrs.from, words: errorWords(error) };
}

/** The status codes of a MUC presence, sorted. */
export const statusCodes = (presence: Element): string[] =>
  presence
    .getChild("x", MUC_USER)
    ?.getChildren("status")
    .map((status) => status.attrs.code ?? "")
    .sort() ?? [];

/** Joins `room` as `nick` and takes from the client what the join brings, up to the subject that ends it. */
export async function joinRoom(
  client: TestClient,
  room: string,
  nick: string,
  history?: Record<string, string>,
): Promise<{ presences: Element[]; messages: Element[]; subject: Element }> {
  await client.send(xml("presence", { to: `${room}/${nick}` }, xml("x", { xmlns: MUC }, history ? xml("history", history) : null)));
  const subject = await client.waitFor(
    (stanza) => stanza.name === "message" && fromRoom(room)(stanza) && stanza.getChild("subject") !== undefined && !stanza.getChild("body"),
    10_000,
  );
  const presences = client.received.filter((stanza) => stanza.name === "presence" && fromRoom(room)(stanza));
  const messages = client.received.filter((stanza) => stanza.name === "message" && fromRoom(room)(stanza) && stanza.attrs.type === "groupchat");
  client.received.splice(0, client.received.length, ...client.received.filter((stanza) => !presences.includes(stanza) && !messages.includes(stanza)));
  return { presences, messages, subject };
}

/** The occupants a join showed besides the user's own `nick`: their nicks and their real JIDs, sorted. */
export function othersIn(presences: Element[], room: string, nick: string): { nicks: string[]; jids: string[] } {
  const others = presences.filter((presence) => presence.attrs.from !== `${room}/${nick}` && !presence.attrs.type);
  return {
    nicks: others.map((presence) => presence.attrs.from!.slice(room.length + 1)).sort(),
    jids: others.map((presence) => presence.getChild("x", MUC_USER)?.getChild("item")?.attrs.jid ?? "").sort(),
  };
}

/** What a join as `nick` shows, to compare whole: the other occupants' nicks and real JIDs, sorted,
 *  and the history as [from, body]. */
export async function joinSeen(
  client: TestClient,
  room: string,
  nick: string,
): Promise<{ nicks: string[]; jids: string[]; history: Array<[string | undefined, string | undefined]> }> {
  const { presences, messages } = await joinRoom(client, room, nick);
  return { ...othersIn(presences, room, nick), history: messages.map((message) => [message.attrs.from, message.getChildText("body") ?? undefined]) };
}

/** A join refused: the presence error's condition and its text. */
export async function refusedJoin(client: TestClient, room: string, nick: string): Promise<{ condition: string | undefined; text: string }> {
  await client.send(xml("presence", { to: `${room}/${nick}` }, xml("x", { xmlns: MUC })));
  const error = await client.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "error" && stanza.attrs.from === `${room}/${nick}`);
  return { condition: error.getChild("error")?.getChildElements()[0]?.name, text: error.getChild("error")?.getChildText("text") ?? "" };
}

/** The nodes of the ad-hoc commands (XEP-0050) `jid` offers. */
export async function commandsOf(client: TestClient, jid: string): Promise<string[]> {
  const reply = await client.iq(
    xml("iq", { type: "get", to: jid }, xml("query", { xmlns: "http://jabber.org/protocol/disco#items", node: "http://jabber.org/protocol/commands" })),
  );
  return (
    reply
      .getChild("query")
      ?.getChildren("item")
      .map((item) => item.attrs.node ?? "") ?? []
  );
}

/** Starts a group with the component's chat command; the room its invitation names. */
export async function startGroup(client: TestClient, component: string, people: string[], subject: string): Promise<string> {
  await client.send(xml("message", { to: component, type: "chat" }, xml("body", {}, `group ${people.join(" ")} subject="${subject}"`)));
  const invitation = await client.waitFor((stanza) => isInvitation(stanza) && stanza.getChild("x", CONFERENCE)?.attrs.reason === subject, 15_000);
  return invitedTo(invitation);
}

export interface ArchiveQuery {
  /** XEP-0313's `with` filter, as a form field. */
  with?: string;
  /** RSM paging (XEP-0059); without `max`, no <set/>. */
  max?: string;
  after?: string;
  before?: string;
}

/** Asks `room`'s archive and takes the results from the client: the reply, the result messages, their
 *  bodies, the <fin/> and the count it gives. */
export async function queryArchive(
  client: TestClient,
  room: string,
  query: ArchiveQuery,
): Promise<{ reply: Element; results: Element[]; bodies: string[]; fin: Element | undefined; count: string | null }> {
  const queryid = `q-${Math.random().toString(36).slice(2)}`;
  const form =
    query.with === undefined
      ? null
      : xml(
          "x",
          { xmlns: "jabber:x:data", type: "submit" },
          xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, MAM)),
          xml("field", { var: "with" }, xml("value", {}, query.with)),
        );
  const paging =
    query.max === undefined
      ? null
      : xml(
          "set",
          { xmlns: RSM },
          xml("max", {}, query.max),
          query.after !== undefined ? xml("after", {}, query.after) : null,
          query.before !== undefined ? xml("before", {}, query.before) : null,
        );
  const reply = await client.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: MAM, queryid }, form, paging)));
  const results = client.received.filter((stanza) => stanza.name === "message" && stanza.getChild("result", MAM)?.attrs.queryid === queryid);
  client.received.splice(0, client.received.length, ...client.received.filter((stanza) => !results.includes(stanza)));
  const fin = reply.getChild("fin", MAM);
  return { reply, results, bodies: archivedBodies(results), fin, count: fin?.getChild("set", RSM)?.getChildText("count") ?? null };
}

/** The bodies of the messages in MAM results. */
export function archivedBodies(results: Element[]): string[] {
  return results.map((result) => result.getChild("result", MAM)!.getChild("forwarded")!.getChild("message")!.getChildText("body") ?? "");
}

/** How many rows of these tables have a key that begins with `prefix` (a user's: "juliet@"). */
export async function rowsStartingWith(store: Store, tables: string[], prefix: string): Promise<number> {
  let rows = 0;
  for (const name of tables) {
    for await (const [key] of store.table<unknown>(name).entries()) if (key.startsWith(prefix)) rows += 1;
  }
  return rows;
}

/** The raw text of a plain-text mail with these headers. */
export function mail(headers: Record<string, string>, body: string): string {
  return `${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join("\n")}\nContent-Type: text/plain; charset=utf-8\n\n${body}\n`;
}

/** The raw text of an answer to the mail `inReplyTo` (its Message-ID), threaded as mail clients do. */
export function answerMail(headers: Record<string, string>, inReplyTo: string, body: string): string {
  return mail({ ...headers, "In-Reply-To": inReplyTo, References: inReplyTo }, body);
}
