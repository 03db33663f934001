// Whatever the gateway has stored (contacts named by 95 KB From headers, thousands of registered
// users), the answer to a command stays one readable stanza well within what XMPP servers take from
// a component: the server closing the stream on it would drop every user's link to the transport.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { xml, type Element, type TestClient } from "../support/xmpp-client.js";

const JULIET = "juliet@example.test";
const COMMANDS = "http://jabber.org/protocol/commands";
const ADMIN = "http://jabber.org/protocol/admin";
/** ejabberd's default max_stanza_size (c2s); Prosody takes 512 KiB from a component. */
const SERVER_LIMIT_BYTES = 256_000;
const HUGE_NAME = "N".repeat(95_000);
/** Contacts stored with a huge name, and ordinary ones after them: more than a page in all. */
const HUGE = 6;
const CONTACTS = 60;
/** Registered users stored besides juliet, with long JIDs: their list alone is over 512 KiB. */
const SEEDED_USERS = 2_500;
const seededUser = (i: number): string => `${"u".repeat(200)}${String(i).padStart(4, "0")}@example.test`;

let h: Harness;
let juliet: TestClient;
let admin: TestClient;
before(async () => {
  h = await startHarness({ users: ["juliet", "prince"], config: (raw) => (raw.access = { admins: ["prince@example.test"] }) });
  // Stored as they were before names were cut on the way in: before juliet's contact book is first read.
  const book: Record<string, { name?: string; subscribed?: boolean }> = {};
  for (let i = 0; i < CONTACTS; i += 1) book[`sender${i}@spam.example`] = { name: i < HUGE ? `${HUGE_NAME}${i}` : `Sender ${i}`, subscribed: true };
  await h.gateway.store.table("test.contacts").set(JULIET, book);
  const now = new Date().toISOString();
  const registrations = h.gateway.store.table("test.registrations");
  for (let i = 0; i < SEEDED_USERS; i += 1)
    await registrations.set(seededUser(i), { fields: { address: `u${i}@mail.example.com` }, registeredAt: now, updatedAt: now });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
  admin = await h.login("prince");
});
after(async () => {
  await h?.stop();
});

const say = async (client: TestClient, text: string): Promise<Element> => {
  const answer = client.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === GATEWAY && Boolean(stanza.getChildText("body")), 10_000);
  await client.send(xml("message", { to: GATEWAY, type: "chat", id: `chat-${Math.random().toString(36).slice(2)}` }, xml("body", {}, text)));
  return answer;
};
const execute = (client: TestClient, node: string, extra: Record<string, string> = {}, ...children: Element[]) =>
  client.iq(xml("iq", { type: "set", to: GATEWAY }, xml("command", { xmlns: COMMANDS, node, ...extra }, ...children)), 10_000);
const fieldValues = (form: Element, name: string): string[] =>
  form
    .getChildren("field")
    .find((field) => field.attrs.var === name)
    ?.getChildren("value")
    .map((value) => value.text()) ?? [];
const bytes = (stanza: Element): number => Buffer.byteLength(stanza.toString());

/** The link stayed up through the command: no drop, and a message sent now arrives at once. */
async function assertLinkUp(drops: number, sourceId: string): Promise<void> {
  const link = h.gateway.services[0]!.link;
  assert.equal(link.drops, drops, "the server closed the component stream");
  assert.equal(link.state, "online");
  const started = Date.now();
  const arrived = juliet.waitFor((stanza) => stanza.name === "message" && stanza.getChildText("body") === `after ${sourceId}`, 3_000);
  await (await h.transport.inject({ user: JULIET, peer: "sender0@spam.example", body: `after ${sourceId}`, sourceId })).delivered;
  await arrived;
  assert.ok(Date.now() - started < 3_000, "a message after the command waited");
  assert.equal(link.drops, drops, "the link dropped after the command");
}

test("contacts with 95 KB names are listed a page at a time with the names cut, and the link stays up", async () => {
  const drops = h.gateway.services[0]!.link.drops;
  const answer = await say(juliet, "contacts");
  assert.ok(bytes(answer) < SERVER_LIMIT_BYTES / 4, `${bytes(answer)} bytes`);
  const lines = answer.getChildText("body")!.split("\n");
  assert.equal(lines[0], `Contacts 1–50 of ${CONTACTS}:`);
  const first = lines[1]!;
  assert.ok(first.startsWith(`${"N".repeat(99)}… <sender0@spam.example>: `), first.slice(0, 120));
  assert.ok(first.endsWith(contactJid("sender0@spam.example")), "the line ends with the contact's JID");
  assert.equal(lines.filter((line) => line.includes("@spam.example")).length, 50);
  assert.equal(lines.at(-1), "… and 10 more; send 'contacts 2' to the gateway for the next 10.");
  await assertLinkUp(drops, "after-contacts");

  const rest = (await say(juliet, "contacts 2")).getChildText("body")!.split("\n");
  assert.equal(rest[0], `Contacts 51–60 of ${CONTACTS}:`);
  assert.equal(rest[1], `Sender 50 <sender50@spam.example>: ${contactJid("sender50@spam.example")}`);
  assert.equal(rest.length, 11, "the last page has no closing line");
  assert.match((await say(juliet, "contacts 3")).getChildText("body")!, /The page is a number from 1 to 2\.\nUsage: contacts \[PAGE\]/);

  // The ad-hoc command gives the same first page.
  const note = (await execute(juliet, "contacts")).getChild("command", COMMANDS)!.getChildText("note")!;
  assert.match(note, /^Contacts 1–50 of 60:\nN{99}… <sender0@spam\.example>/);

  // So does a contact's vCard.
  const card = await juliet.iq(xml("iq", { type: "get", to: contactJid("sender0@spam.example") }, xml("vCard", { xmlns: "vcard-temp" })));
  assert.equal(card.getChild("vCard", "vcard-temp")!.getChildText("FN"), `${"N".repeat(99)}…`);
  await assertLinkUp(drops, "after-vcard");
});

test("an admin's XEP-0133 list of thousands of users is cut and gives their number, and the link stays up", async () => {
  const drops = h.gateway.services[0]!.link.drops;
  const total = SEEDED_USERS + 1;
  const run = async (maxItems: string): Promise<Element> => {
    const node = `${ADMIN}#get-registered-users-list`;
    const first = (await execute(admin, node)).getChild("command", COMMANDS)!;
    const form = xml(
      "x",
      { xmlns: "jabber:x:data", type: "submit" },
      xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, ADMIN)),
      xml("field", { var: "max_items" }, xml("value", {}, maxItems)),
    );
    return execute(admin, node, { sessionid: first.attrs.sessionid!, action: "complete" }, form);
  };

  const all = await run("none");
  assert.ok(bytes(all) < SERVER_LIMIT_BYTES / 4, `${bytes(all)} bytes`);
  const command = all.getChild("command", COMMANDS)!;
  assert.equal(command.attrs.status, "completed");
  const result = command.getChild("x", "jabber:x:data")!;
  const jids = fieldValues(result, "registereduserjids");
  assert.equal(jids.length, 200);
  assert.equal(jids[0], JULIET, "sorted by JID");
  assert.equal(jids[1], seededUser(0));
  assert.deepEqual(fieldValues(result, "registeredusersnum"), [String(total)]);
  assert.equal(command.getChildText("note"), `The first 200 of ${total} ("none" shows at most 200); the chat command 'users PAGE' lists them all.`);
  await assertLinkUp(drops, "after-list");

  const some = (await run("25")).getChild("command", COMMANDS)!;
  assert.equal(fieldValues(some.getChild("x", "jabber:x:data")!, "registereduserjids").length, 25);
  assert.match(some.getChildText("note")!, new RegExp(`^The first 25 of ${total} \\(max_items is 25\\)`));
});

test("an admin's chat listing of thousands of users comes a page at a time, and the link stays up", async () => {
  const drops = h.gateway.services[0]!.link.drops;
  const total = SEEDED_USERS + 1;
  const answer = await say(admin, "users");
  assert.ok(bytes(answer) < SERVER_LIMIT_BYTES / 4, `${bytes(answer)} bytes`);
  const lines = answer.getChildText("body")!.split("\n");
  assert.equal(lines[0], `Registered users 1–100 of ${total}:`);
  assert.match(lines[1]!, /^juliet@example\.test \(since \d{4}-\d{2}-\d{2}\)$/);
  assert.equal(lines.length, 102);
  assert.equal(lines.at(-1), `… and ${total - 100} more; send 'users 2' to the gateway for the next 100.`);
  await assertLinkUp(drops, "after-users");

  const last = (await say(admin, `users ${Math.ceil(total / 100)}`)).getChildText("body")!.split("\n");
  assert.equal(last[0], `Registered users 2501–${total} of ${total}:`);
  assert.equal(last.length, 2);
  // The ad-hoc command gives the first page.
  const note = (await execute(admin, "admin-users")).getChild("command", COMMANDS)!.getChildText("note")!;
  assert.ok(note.startsWith(`Registered users 1–100 of ${total}:\njuliet@example.test`));
});
