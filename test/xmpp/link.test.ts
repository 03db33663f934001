import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
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

const health = async () => (await (await fetch(`http://127.0.0.1:${h.gateway.httpPort}/healthz`)).json()) as { status: string; links: Record<string, string> };

test("health reports each component link's state", async () => {
  assert.deepEqual(await health(), { status: "ok", links: { [GATEWAY]: "online" } });
  const ready = await fetch(`http://127.0.0.1:${h.gateway.httpPort}/readyz`);
  assert.equal(ready.status, 200);
});

test("messages queued while Prosody restarts all arrive once it is back, none twice", async () => {
  const link = h.gateway.services[0]!.link;
  await h.server.stop();
  await until(() => link.state !== "online", 5_000);
  assert.notEqual(link.state, "online");
  assert.equal((await health()).status, "degraded");
  assert.equal((await fetch(`http://127.0.0.1:${h.gateway.httpPort}/readyz`)).status, 503);

  const deliveries = [];
  for (let i = 0; i < 30; i += 1) {
    deliveries.push(await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: `queued ${i}`, sourceId: `restart-${i}` }));
  }
  await h.server.start();
  await link.waitOnline(10_000);
  await Promise.all(deliveries.map((delivery) => delivery.delivered));

  const juliet = await h.login("juliet");
  await until(() => juliet.messages().length >= 30, 5_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const bodies = juliet.messages().map((stanza) => stanza.getChildText("body"));
  assert.deepEqual(bodies.sort(), Array.from({ length: 30 }, (_, i) => `queued ${i}`).sort());

  // And the link works both ways again.
  const before = h.transport.sent.length;
  await juliet.send(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id: "after-restart" }, xml("body", {}, "back")));
  await h.transport.waitForSent(before + 1);
  await juliet.stop();
});

test("a wrong component secret keeps the link down with a clear log line instead of crashing", async () => {
  const { ComponentLink } = await import("../../src/xmpp/link.js");
  const { createLogger } = await import("../../src/log.js");
  const { join } = await import("node:path");
  const { readFileSync } = await import("node:fs");
  const logFile = join(h.dir, "wrong-secret.log");
  const link = new ComponentLink({
    host: "127.0.0.1",
    port: h.server.componentPort,
    domain: `${GATEWAY}x`,
    secret: "wrong",
    serverDomain: "example.test",
    log: createLogger("debug", logFile),
    pingIntervalMs: 5_000,
    pingTimeoutMs: 2_000,
    reconnectMinMs: 100,
    reconnectMaxMs: 200,
    maxQueue: 10,
  });
  link.start();
  await assert.rejects(link.waitOnline(1_500));
  await link.stop();
  const lines = readFileSync(logFile, "utf8");
  assert.match(lines, /component link (error|failed to connect)/);
});

test("a link that stops answering pings is declared dead and reconnects", async () => {
  const link = h.gateway.services[0]!.link;
  const pids = await h.server.pids();
  for (const pid of pids) process.kill(pid, "SIGSTOP");
  try {
    // Ask for a confirmation that cannot come while the server is frozen.
    const pending = link.send(xml("presence", { to: "juliet@example.test", from: GATEWAY }));
    await until(() => link.state !== "online", 15_000, 100);
    assert.notEqual(link.state, "online", "the frozen link should be declared dead");
    for (const pid of pids) process.kill(pid, "SIGCONT");
    await link.waitOnline(10_000);
    await pending;
  } finally {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // already running
      }
    }
  }
});
