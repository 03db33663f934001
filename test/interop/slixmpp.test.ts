import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startHarness, GATEWAY, PASSWORD, type Harness } from "../support/harness.js";
import { contactJid } from "../support/register.js";

// The script sits next to the compiled test's source: dist/test/interop -> test/interop.
const SCRIPT = fileURLToPath(new URL("../../../test/interop/slixmpp-client.py", import.meta.url));

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

test("slixmpp, a client that is not ours, discovers, registers, writes and gets the answer", async () => {
  const child = spawn("/usr/bin/python3", [SCRIPT, "juliet@example.test", PASSWORD, String(h.server.c2sPort), GATEWAY, contactJid("romeo@montague.net"), "juliet@capulet.example"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const steps: Array<Record<string, unknown>> = [];
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) steps.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));

  await h.transport.waitForSent(1, 15_000);
  const sent = h.transport.sent[0]!;
  assert.equal(sent.message.body, "Hello from slixmpp");
  assert.equal(sent.message.peer, "romeo@montague.net");
  assert.equal(sent.account.address, "juliet@capulet.example");
  await (await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: "Hello, slixmpp user", sourceId: "slix-1" })).delivered;

  assert.equal(await exited, 0, stderr);
  const disco = steps.find((step) => step.step === "disco")!;
  assert.equal(disco.category, "gateway");
  assert.ok((disco.features as string[]).includes("jabber:iq:register"));
  assert.equal(steps.find((step) => step.step === "registered")?.type, "result");
  assert.deepEqual(steps.find((step) => step.step === "received"), { step: "received", sender: contactJid("romeo@montague.net"), body: "Hello, slixmpp user" });
});
