// A message the gateway delivers may come back: the user's server refuses it or cannot store it.
// It is tried again a few times (a server restarting or short of storage takes it later); each
// return is logged and counted in /metrics, and giving up is a warning. Here the
// account is deleted on the server while still registered with the transport.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GATEWAY, PASSWORD, startHarness, type Harness } from "../support/harness.js";
import { registerAndSubscribe } from "../support/register.js";
import type { Element } from "../support/xmpp-client.js";

let h: Harness;
before(async () => {
  h = await startHarness({ users: ["juliet", "romeo", "benvolio", "balthasar"] });
  for (const user of ["benvolio", "balthasar"]) {
    const client = await h.login(user);
    await registerAndSubscribe(client);
    await client.stop();
  }
});
after(async () => {
  await h?.stop();
});

/** switchboard_messages_total for inbound messages of the test transport with this result. */
const counted = async (result: string): Promise<number> => {
  const metrics = await (await fetch(`http://127.0.0.1:${h.gateway.httpPort}/metrics`)).text();
  const line = metrics.split("\n").find((entry) => entry.startsWith(`switchboard_messages_total{transport="test",direction="in",result="${result}"}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
};
const bouncedCount = (): Promise<number> => counted("bounced");

const logEntries = (msg: string): Array<{ level: number; id?: string; sourceId?: string; to?: string; error?: string; attempts?: number }> =>
  readFileSync(join(h.dir, "gateway.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: number; msg: string })
    .filter((entry) => entry.msg === msg);

test("a message sent back each time is tried five times, each return counted and logged, then given up as undeliverable", async () => {
  await h.server.removeUser("benvolio");
  const before = await bouncedCount();
  const undeliverable = await counted("undeliverable");
  await (
    await h.transport.inject({ user: "benvolio@example.test", peer: "mercutio@verona.it", body: "Where the devil should this Romeo be?", sourceId: "bounce-1" })
  ).delivered;
  assert.equal(await bouncedCount(), before + 5);
  assert.equal(await counted("undeliverable"), undeliverable + 1);
  const returns = logEntries("a message we delivered bounced");
  assert.equal(returns.length, 5);
  for (const entry of returns) {
    assert.equal(entry.level, 30);
    assert.match(entry.id ?? "", /^sb-/);
    assert.equal(entry.to, `mercutio\\40verona.it@${GATEWAY}`);
    assert.match(entry.error ?? "", /service-unavailable/);
  }
  const given = logEntries("the user's server sent the message back each time; given up");
  assert.equal(given.length, 1);
  assert.equal(given[0]!.level, 40);
  assert.equal(given[0]!.sourceId, "bounce-1");
  assert.equal(given[0]!.attempts, 5);
});

test("a message sent back while the account was away reaches the user once it is back", async () => {
  await h.server.removeUser("balthasar");
  const before = await bouncedCount();
  const body = "I do remember an apothecary";
  const delivery = await h.transport.inject({ user: "balthasar@example.test", peer: "romeo@montague.net", body, sourceId: "bounce-2" });
  const deadline = Date.now() + 5_000;
  while ((await bouncedCount()) === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok((await bouncedCount()) > before, "the first delivery did not come back");
  // The server's admin restores the account before the gateway gives up.
  await h.server.addUser("balthasar", PASSWORD);
  await delivery.delivered;
  // It waited in the server's offline storage: the user gets it on login, once.
  const balthasar = await h.login("balthasar");
  const isIt = (stanza: Element): boolean => stanza.name === "message" && stanza.getChildText("body") === body;
  await balthasar.waitFor(isIt, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(balthasar.received.filter(isIt).length, 0, "a second copy arrived");
  assert.equal(logEntries("the user's server sent the message back each time; given up").filter((entry) => entry.sourceId === "bounce-2").length, 0);
});
