import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe, registrationForm } from "../support/register.js";
import { errorCondition, errorText, xml, type Element, type TestClient } from "../support/xmpp-client.js";

const NS = "http://jabber.org/protocol/commands";
let h: Harness;
let juliet: TestClient;
let admin: TestClient;
before(async () => {
  h = await startHarness({ users: ["juliet", "romeo", "nurse", "prince"], config: (raw) => (raw.access = { admins: ["prince@example.test"] }) });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
  admin = await h.login("prince");
});
after(async () => {
  await h?.stop();
});

const commandList = async (client: TestClient): Promise<string[]> => {
  const reply = await client.iq(xml("iq", { type: "get", to: GATEWAY }, xml("query", { xmlns: "http://jabber.org/protocol/disco#items", node: NS })));
  return reply
    .getChild("query")!
    .getChildren("item")
    .map((item) => item.attrs.node!);
};
const execute = (client: TestClient, node: string, extra: Record<string, string> = {}, ...children: Element[]) =>
  client.iq(xml("iq", { type: "set", to: GATEWAY }, xml("command", { xmlns: NS, node, ...extra }, ...children)));
const note = (reply: Element) => reply.getChild("command", NS)?.getChildText("note") ?? "";
const say = async (client: TestClient, text: string): Promise<string> => {
  const id = `chat-${Math.random().toString(36).slice(2)}`;
  const answer = client.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === GATEWAY && Boolean(stanza.getChildText("body")));
  await client.send(xml("message", { to: GATEWAY, type: "chat", id }, xml("body", {}, text)));
  return (await answer).getChildText("body")!;
};

test("users see their commands and admins also see the operator's", async () => {
  const mine = await commandList(juliet);
  for (const node of ["register", "settings", "contacts", "add-contact", "display-name", "preferences", "unregister"]) assert.ok(mine.includes(node), node);
  assert.ok(!mine.some((node) => node.startsWith("admin-")));
  const theirs = await commandList(admin);
  assert.ok(theirs.includes("admin-users") && theirs.includes("admin-stats") && theirs.includes("admin-log-level"));
  assert.ok(!theirs.includes("contacts"), "the admin is not registered: account commands are hidden");
  const refused = await execute(juliet, "admin-users");
  assert.equal(errorCondition(refused), "item-not-found");
  assert.match(errorText(refused), /Only the gateway's admins/);
});

test("adding a contact with an ad-hoc command offers it to the roster under its name", async () => {
  const first = await execute(juliet, "add-contact");
  const command = first.getChild("command", NS)!;
  assert.equal(command.attrs.status, "executing");
  assert.ok(
    command
      .getChild("x", "jabber:x:data")!
      .getChildren("field")
      .some((field) => field.attrs.var === "address"),
  );
  const subscription = juliet.waitFor(
    (stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === contactJid("friar@verona.it"),
  );
  const done = await execute(
    juliet,
    "add-contact",
    { sessionid: command.attrs.sessionid!, action: "complete" },
    registrationForm({ address: "Friar@Verona.IT", name: "Friar Laurence" }),
  );
  assert.equal(done.getChild("command", NS)!.attrs.status, "completed");
  assert.match(note(done), /friar@verona\.it is friar\\40verona\.it@test\.example\.test/);
  const request = await subscription;
  assert.equal(request.getChildText("nick", "http://jabber.org/protocol/nick"), "Friar Laurence");
  const card = await juliet.iq(xml("iq", { type: "get", to: contactJid("friar@verona.it") }, xml("vCard", { xmlns: "vcard-temp" })));
  assert.equal(card.getChild("vCard", "vcard-temp")!.getChildText("FN"), "Friar Laurence");
});

test("a cancelled or expired command session changes nothing", async () => {
  const first = await execute(juliet, "unregister");
  const sessionid = first.getChild("command", NS)!.attrs.sessionid!;
  const cancelled = await execute(juliet, "unregister", { sessionid, action: "cancel" });
  assert.equal(cancelled.getChild("command", NS)!.attrs.status, "canceled");
  const stale = await execute(juliet, "unregister", { sessionid, action: "complete" }, registrationForm({ confirm: "true" }));
  assert.equal(errorCondition(stale), "bad-request");
  assert.ok(h.transport.registered.has("juliet@example.test"));
});

test("the chat bot lists commands and runs them for clients without ad-hoc commands", async () => {
  const help = await say(juliet, "help");
  assert.match(help, /add ADDRESS/);
  assert.doesNotMatch(help, /\(admin\)/);
  assert.match(await say(juliet, 'add mercutio@verona.it name="Mercutio"'), /mercutio\\40verona\.it@test\.example\.test/);
  assert.match(await say(juliet, "contacts"), /Mercutio <mercutio@verona\.it>/);
  assert.match(await say(juliet, "name Juliet Capulet"), /display name is now "Juliet Capulet"/);
  assert.match(await say(juliet, "settings"), /display name: Juliet Capulet/);
  assert.match(await say(juliet, "add"), /Give the e-mail address to add\.\nUsage: add ADDRESS/);
  assert.match(await say(juliet, "fly me to the moon"), /I do not know "fly"/);

  // The display name goes out with messages whose client sends no nickname.
  const before = h.transport.sent.length;
  await juliet.send(xml("message", { to: contactJid("mercutio@verona.it"), type: "chat", id: "nick1" }, xml("body", {}, "hello")));
  await h.transport.waitForSent(before + 1);
  assert.equal(h.transport.sent.at(-1)!.message.nick, "Juliet Capulet");
});

test("the known-senders policy keeps mail from strangers out", async () => {
  assert.match(await say(juliet, "set spam=known"), /only from addresses I have written to/);
  const stranger = await h.transport.inject({ user: "juliet@example.test", peer: "stranger@spam.example", body: "you won!", sourceId: "policy-1" });
  assert.ok(stranger.filtered, "a message from someone she never wrote to is filtered");
  const friend = await h.transport.inject({ user: "juliet@example.test", peer: "mercutio@verona.it", body: "from a friend", sourceId: "policy-2" });
  assert.equal(friend.filtered, undefined);
  await friend.delivered;
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "from a friend");
  assert.match(await say(juliet, "set spam=all"), /everything not marked as spam/);
});

test("the first message from a new contact offers the contact to the roster", async () => {
  const offer = juliet.waitFor(
    (stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === contactJid("paris@verona.it"),
  );
  await (await h.transport.inject({ user: "juliet@example.test", peer: "paris@verona.it", nick: "County Paris", body: "May I?", sourceId: "new-1" })).delivered;
  assert.equal((await offer).getChildText("nick", "http://jabber.org/protocol/nick"), "County Paris");
});

test("when the user's legacy account fails, the transport shows as unavailable with the reason", async () => {
  const down = juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === GATEWAY && stanza.attrs.type === "unavailable");
  h.transport.context().setAccountState("juliet@example.test" as never, { ok: false, reason: "IMAP login refused: wrong password" });
  assert.equal((await down).getChildText("status"), "IMAP login refused: wrong password");
  const probe = await juliet.iq(xml("iq", { type: "get", to: GATEWAY }, xml("ping", { xmlns: "urn:xmpp:ping" })));
  assert.equal(probe.attrs.type, "result", "the gateway itself still answers");
  const up = juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === GATEWAY && !stanza.attrs.type);
  h.transport.context().setAccountState("juliet@example.test" as never, { ok: true });
  await up;
});

test("admins list users, see a registration without its secrets, read statistics and change the log level", async () => {
  const users = note(await execute(admin, "admin-users"));
  assert.match(users, /1 registered:\njuliet@example\.test/);
  const show = await execute(admin, "admin-show-user");
  const shown = await execute(
    admin,
    "admin-show-user",
    { sessionid: show.getChild("command", NS)!.attrs.sessionid!, action: "complete" },
    registrationForm({ jid: "juliet@example.test" }),
  );
  assert.match(note(shown), /address: juliet@mail\.example\.com/);
  assert.match(note(shown), /password: \(secret, set\)/);
  assert.doesNotMatch(note(shown), /secret$/m);
  assert.match(note(await execute(admin, "admin-stats")), /registered users: 1[\s\S]*messages out accepted: \d+/);
  assert.match(await say(admin, "loglevel debug"), /Log level is now debug/);
  assert.match(await say(admin, "loglevel chatty"), /one of fatal, error/);
  const metrics = await (await fetch(`http://127.0.0.1:${h.gateway.httpPort}/metrics`)).text();
  assert.match(metrics, /switchboard_messages_total\{transport="test",direction="out",result="accepted"\} \d+/);
  assert.match(metrics, /switchboard_component_link_up\{domain="test\.example\.test"\} 1/);
});

test("an admin can change a user's settings in two steps and unregister them", async () => {
  const first = await execute(admin, "admin-edit-user");
  const sessionid = first.getChild("command", NS)!.attrs.sessionid!;
  const second = await execute(admin, "admin-edit-user", { sessionid, action: "complete" }, registrationForm({ jid: "juliet@example.test" }));
  const form = second.getChild("command", NS)!.getChild("x", "jabber:x:data")!;
  assert.equal(
    form
      .getChildren("field")
      .find((field) => field.attrs.var === "address")
      ?.getChildText("value"),
    "juliet@mail.example.com",
  );
  const saved = await execute(admin, "admin-edit-user", { sessionid, action: "complete" }, registrationForm({ color: "blue" }));
  assert.match(note(saved), /color: blue/);
  assert.equal(h.transport.registered.get("juliet@example.test")?.password, "secret", "the secret is kept");
  assert.match(await say(admin, "remove juliet@example.test"), /is unregistered/);
  assert.ok(!h.transport.registered.has("juliet@example.test"));
});
