import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { xml } from "../support/xmpp-client.js";
import { until } from "../support/wait.js";

let h: Harness;
before(async () => {
  h = await startHarness();
  const juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
  await juliet.stop();
});
after(async () => {
  await h?.stop();
});

test("an outgoing message still failing when the gateway stops is sent after it restarts", async () => {
  const juliet = await h.login("juliet");
  h.transport.script.push(...Array.from({ length: 3 }, () => ({ kind: "temporary" as const, reason: "server unreachable" })));
  await juliet.send(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id: "persist-1" }, xml("body", {}, "survive the restart")));
  await until(() => h.transport.script.length <= 1, 5_000);
  await h.stopGateway();
  assert.equal(h.transport.sent.length, 0);
  h.transport.script.length = 0;
  await h.startGateway();
  await h.transport.waitForSent(1);
  assert.equal(h.transport.sent[0]!.message.body, "survive the restart");
  await juliet.stop();
});

test("messages stored while the XMPP server was away are delivered by the next run of the gateway", async () => {
  await h.server.stop();
  const deliveries = [];
  for (let i = 0; i < 5; i += 1) {
    deliveries.push(await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: `stored ${i}`, sourceId: `stored-${i}` }));
  }
  // The gateway goes down before the server comes back: the messages are only in its store.
  await h.stopGateway();
  await Promise.allSettled(deliveries.map((delivery) => delivery.delivered));
  await h.server.start();
  await h.startGateway();
  // The same source messages offered again (e.g. IMAP fetches them once more) are not doubled.
  const redelivered = [];
  for (let i = 0; i < 5; i += 1) {
    const again = await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: `stored ${i}`, sourceId: `stored-${i}` });
    assert.equal(again.duplicate, true);
    redelivered.push(again.delivered);
  }
  // Juliet logs in once the server has confirmed all five, so they wait in its offline store. When
  // she logged in while they were still being handed over, one of them once did not reach her within
  // the wait (on ejabberd, in a CI run; not seen in 16 runs here), most likely routed as her session
  // came online and missed the server's offline flush. What the gateway owes is the hand-over.
  await Promise.all(redelivered);
  const juliet = await h.login("juliet");
  await until(() => juliet.messages().length >= 5, 5_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(
    juliet
      .messages()
      .map((stanza) => stanza.getChildText("body"))
      .sort(),
    ["stored 0", "stored 1", "stored 2", "stored 3", "stored 4"],
  );
  await juliet.stop();
});
