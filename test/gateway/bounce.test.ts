// A message the gateway delivers may come back: the user's server refuses it or cannot store it
// (here the account was deleted on the server while still registered with the transport). It is
// lost to the user, so the operator must see it: a warning naming it, and a count in /metrics.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GATEWAY, startHarness, type Harness } from "../support/harness.js";
import { registerAndSubscribe } from "../support/register.js";

let h: Harness;
before(async () => {
  h = await startHarness({ users: ["juliet", "romeo", "benvolio"] });
  const benvolio = await h.login("benvolio");
  await registerAndSubscribe(benvolio);
  await benvolio.stop();
});
after(async () => {
  await h?.stop();
});

const bouncedCount = async (): Promise<number> => {
  const metrics = await (await fetch(`http://127.0.0.1:${h.gateway.httpPort}/metrics`)).text();
  const line = metrics.split("\n").find((entry) => entry.startsWith('switchboard_messages_total{transport="test",direction="in",result="bounced"}'));
  return line ? Number(line.split(" ").at(-1)) : 0;
};

test("a message the user's server bounces is counted in /metrics and logged as a warning with its id", async () => {
  await h.server.removeUser("benvolio");
  const before = await bouncedCount();
  await (
    await h.transport.inject({ user: "benvolio@example.test", peer: "mercutio@verona.it", body: "Where the devil should this Romeo be?", sourceId: "bounce-1" })
  ).delivered;
  const deadline = Date.now() + 10_000;
  while ((await bouncedCount()) === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(await bouncedCount(), before + 1);
  const warnings = readFileSync(join(h.dir, "gateway.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: number; msg: string; id?: string; to?: string; error?: string })
    .filter((entry) => entry.msg === "a message we delivered bounced");
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.level, 40);
  assert.match(warnings[0]!.id ?? "", /^sb-/);
  assert.equal(warnings[0]!.to, `mercutio\\40verona.it@${GATEWAY}`);
  assert.match(warnings[0]!.error ?? "", /service-unavailable/);
});
