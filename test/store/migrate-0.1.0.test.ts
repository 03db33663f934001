// A store written by release 0.1.0 opens under the ledger: its waiting outgoing messages are sent,
// its pending incoming ones delivered, its delivered ids still keep copies out, and its user and
// contacts are as they were.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { startHarness, type Harness } from "../support/harness.js";
import type { TestClient } from "../support/xmpp-client.js";
import { until } from "../support/wait.js";

const FIXTURE = new URL("../../../test/fixtures/store-0.1.0.sqlite", import.meta.url).pathname;
let h: Harness;
let juliet: TestClient;
let file = "";

before(async () => {
  h = await startHarness({
    config: (raw) => {
      const store = raw.store as { uri: string };
      // SQLite only: the fixture is a SQLite file.
      file = join(String((raw.media as { dir: string }).dir), "..", "upgraded.sqlite");
      copyFileSync(FIXTURE, file);
      store.uri = `sqlite://${file}`;
    },
  });
  juliet = await h.login("juliet");
});
after(async () => {
  await h?.stop();
});

test("the 0.1.0 store's queues moved into the ledger and left no keyv rows behind", () => {
  const db = new Database(file, { readonly: true });
  try {
    const leftover = db.prepare("SELECT COUNT(*) AS n FROM keyv WHERE key LIKE 'test.outbox%' OR key LIKE 'test.inbox%' OR key LIKE 'test.sent%'").get() as {
      n: number;
    };
    assert.equal(leftover.n, 0);
    const version = db.prepare("SELECT MAX(version) AS v FROM ledger_version").get() as { v: number };
    assert.ok(version.v >= 1);
  } finally {
    db.close();
  }
});

test("the user is still registered and the outgoing messages 0.1.0 left waiting are sent", async () => {
  await until(() => h.transport.sent.length >= 3, 10_000);
  assert.deepEqual(h.transport.sent.map((sent) => sent.message.body).sort(), ["waiting 0", "waiting 1", "waiting 2"]);
  assert.equal(h.transport.sent[0]!.account.password, "secret", "the sealed password still opens");
});

test("the incoming messages 0.1.0 stored but never handed over are delivered", async () => {
  await until(() => juliet.messages().filter((stanza) => stanza.getChildText("body")?.startsWith("pending")).length >= 2, 10_000);
  const bodies = juliet.messages().map((stanza) => stanza.getChildText("body"));
  assert.ok(bodies.includes("pending 0") && bodies.includes("pending 1"), JSON.stringify(bodies));
});

test("ids 0.1.0 had delivered are still recognised: a copy is not delivered again", async () => {
  const again = await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: "delivered 0", sourceId: "fixture-seen-0" });
  assert.equal(again.duplicate, true);
  const fresh = await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: "new", sourceId: "after-upgrade" });
  assert.equal(fresh.duplicate, false);
  await fresh.delivered;
});
