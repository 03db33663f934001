import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { registerAndSubscribe, contactJid } from "../support/register.js";
import { xml } from "../support/xmpp-client.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

test("a registered user's message reaches the transport and an injected one reaches the user", async () => {
  const juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
  await juliet.send(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id: "m1" }, xml("body", {}, "Hello Romeo")));
  await h.transport.waitForSent(1);
  assert.equal(h.transport.sent[0]!.message.peer, "romeo@montague.net");
  assert.equal(h.transport.sent[0]!.message.body, "Hello Romeo");
  const delivery = await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: "Hi Juliet", sourceId: "s1" });
  await delivery.delivered;
  const message = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.getChildText("body") === "Hi Juliet");
  assert.equal(message.attrs.from, contactJid("romeo@montague.net"));
  void GATEWAY;
});
