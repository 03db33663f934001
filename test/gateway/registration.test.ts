import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { storedText } from "../support/postgres.js";
import { contactJid, register, registerAndSubscribe } from "../support/register.js";
import { errorCondition, errorText, xml, type Element, type TestClient } from "../support/xmpp-client.js";

let h: Harness;
before(async () => {
  // romeo may register; juliet's and mallory's domain is not open to everyone here.
  h = await startHarness({
    users: ["juliet", "romeo", "mallory"],
    config: (raw) => (raw.access = { register: ["juliet@example.test", "romeo@example.test"] }),
  });
});
after(async () => {
  await h?.stop();
});

const registrationQuery = (client: TestClient) => client.iq(xml("iq", { type: "get", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:register" })));
const roster = async (client: TestClient): Promise<Element[]> =>
  (await client.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })))).getChild("query")!.getChildren("item");
const fieldValue = (form: Element, name: string) =>
  form
    .getChildren("field")
    .find((field) => field.attrs.var === name)
    ?.getChildText("value") ?? null;

test("the registration form carries the transport's fields as a data form", async () => {
  const juliet = await h.login("juliet");
  const reply = await registrationQuery(juliet);
  assert.equal(reply.attrs.type, "result");
  const query = reply.getChild("query")!;
  assert.ok(query.getChildText("instructions"));
  assert.equal(query.getChild("registered"), undefined);
  const form = query.getChild("x", "jabber:x:data")!;
  assert.equal(form.attrs.type, "form");
  const fields = Object.fromEntries(form.getChildren("field").map((field) => [field.attrs.var, field.attrs.type]));
  assert.deepEqual(fields, { FORM_TYPE: "hidden", address: "text-single", password: "text-private", color: "list-single" });
  assert.ok(
    form
      .getChildren("field")
      .find((field) => field.attrs.var === "password")!
      .getChild("required"),
  );
  await juliet.stop();
});

test("registering, messaging, changing settings and unregistering work end to end", async () => {
  const juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
  assert.deepEqual(h.transport.registered.get("juliet@example.test"), { address: "juliet@mail.example.com", password: "secret", color: "red" });

  // The transport is now in Juliet's roster with a mutual subscription (XEP-0100).
  const item = (await roster(juliet)).find((entry) => entry.attrs.jid === GATEWAY);
  assert.equal(item?.attrs.subscription, "both");

  // The password is stored, but sealed: the store never holds it in the clear.
  const storeFile = await storedText(h.config.store.uri);
  assert.ok(storeFile.includes("juliet@mail.example.com"));
  assert.ok(!storeFile.includes('"secret"'), "the password must be encrypted at rest");

  await juliet.send(xml("message", { to: contactJid("nurse@verona.it"), type: "chat", id: "r1" }, xml("body", {}, "Is Romeo there?")));
  await h.transport.waitForSent(h.transport.sent.length + 1);
  assert.equal(h.transport.sent.at(-1)!.message.peer, "nurse@verona.it");
  assert.equal(h.transport.sent.at(-1)!.account.password, "secret", "the transport gets the decrypted password");

  // Changing settings: the form shows the registration, never the password.
  const current = (await registrationQuery(juliet)).getChild("query")!;
  assert.ok(current.getChild("registered"));
  const form = current.getChild("x", "jabber:x:data")!;
  assert.equal(fieldValue(form, "address"), "juliet@mail.example.com");
  assert.equal(fieldValue(form, "password"), null);
  const change = await register(juliet, { address: "juliet@capulet.example.com", password: "", color: "blue" });
  assert.equal(change.attrs.type, "result");
  assert.deepEqual(h.transport.registered.get("juliet@example.test"), { address: "juliet@capulet.example.com", password: "secret", color: "blue" });

  // Unregistering: the transport and contacts leave the roster, and the gateway stops serving her.
  const removed = await juliet.iq(xml("iq", { type: "set", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))));
  assert.equal(removed.attrs.type, "result");
  // The server turns the gateway's unsubscribe/unsubscribed into roster pushes.
  await juliet.waitFor((stanza) => stanza.name === "iq" && stanza.getChild("query", "jabber:iq:roster")?.getChild("item")?.attrs.subscription === "none");
  await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === contactJid("nurse@verona.it") && stanza.attrs.type === "unavailable");
  assert.ok(h.transport.unregistered.includes("juliet@example.test"));
  const after = (await roster(juliet)).find((entry) => entry.attrs.jid === GATEWAY);
  assert.equal(after?.attrs.subscription, "none", "both directions of the transport's subscription are cancelled");
  assert.equal((await registrationQuery(juliet)).getChild("query")!.getChild("registered"), undefined);

  await juliet.send(xml("message", { to: contactJid("nurse@verona.it"), type: "chat", id: "r2" }, xml("body", {}, "Still there?")));
  const refusal = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === "r2");
  assert.equal(errorCondition(refusal), "registration-required");
  await juliet.stop();
});

test("a wrong password is refused with not-authorized and the transport's reason", async () => {
  const romeo = await h.login("romeo");
  const reply = await register(romeo, { address: "romeo@montague.net", password: "wrong" });
  assert.equal(reply.attrs.type, "error");
  assert.equal(errorCondition(reply), "not-authorized");
  assert.match(errorText(reply), /refused the login/);
  assert.equal((await registrationQuery(romeo)).getChild("query")!.getChild("registered"), undefined);
  await romeo.stop();
});

test("a missing required field or an unknown choice is refused with a sentence naming it", async () => {
  const romeo = await h.login("romeo");
  const missing = await register(romeo, { address: "romeo@montague.net" });
  assert.equal(errorCondition(missing), "not-acceptable");
  assert.match(errorText(missing), /Password is required/);
  const badChoice = await register(romeo, { address: "romeo@montague.net", password: "x", color: "green" });
  assert.equal(errorCondition(badChoice), "not-acceptable");
  assert.match(errorText(badChoice), /Colour must be one of: red, blue/);
  await romeo.stop();
});

test("a user the operator did not allow cannot register, and unregistered users cannot send", async () => {
  const mallory = await h.login("mallory");
  const form = await registrationQuery(mallory);
  assert.equal(errorCondition(form), "not-allowed");
  const attempt = await register(mallory, { address: "mallory@evil.example", password: "x" });
  assert.equal(errorCondition(attempt), "not-allowed");
  assert.match(errorText(attempt), /does not accept registrations from mallory@example.test/);

  const sentBefore = h.transport.sent.length;
  await mallory.send(xml("message", { to: contactJid("victim@example.com"), type: "chat", id: "spam1" }, xml("body", {}, "buy now")));
  const refusal = await mallory.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === "spam1");
  assert.equal(errorCondition(refusal), "registration-required");
  assert.match(errorText(refusal), /Register with test.example.test/);
  assert.equal(h.transport.sent.length, sentBefore, "nothing may be relayed for an unregistered user");

  const removal = await mallory.iq(xml("iq", { type: "set", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))));
  assert.equal(errorCondition(removal), "registration-required");
  await mallory.stop();
});
