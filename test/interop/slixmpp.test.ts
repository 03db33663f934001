import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, PASSWORD, type Harness } from "../support/harness.js";
import { contactJid } from "../support/register.js";
import { runSlixmpp } from "./slixmpp-run.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

test("slixmpp, a client that is not ours, discovers, registers, writes and gets the answer", async () => {
  const run = runSlixmpp({
    jid: "juliet@example.test",
    password: PASSWORD,
    port: h.server.c2sPort,
    gateway: GATEWAY,
    contact: contactJid("romeo@montague.net"),
    fields: { address: "juliet@capulet.example", password: "secret" },
  });
  await h.transport.waitForSent(1, 15_000);
  const sent = h.transport.sent[0]!;
  assert.equal(sent.message.body, "Hello from slixmpp");
  assert.equal(sent.message.peer, "romeo@montague.net");
  assert.equal(sent.account.address, "juliet@capulet.example");
  await (await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: "Hello, slixmpp user", sourceId: "slix-1" })).delivered;

  const { code, stderr } = await run.exited;
  assert.equal(code, 0, stderr);
  const disco = run.steps.find((step) => step.step === "disco")!;
  assert.equal(disco.category, "gateway");
  assert.ok((disco.features as string[]).includes("jabber:iq:register"));
  assert.equal(run.steps.find((step) => step.step === "registered")?.type, "result");
  assert.deepEqual(
    run.steps.find((step) => step.step === "received"),
    { step: "received", sender: contactJid("romeo@montague.net"), body: "Hello, slixmpp user" },
  );
});
