// On PostgreSQL the ledger's keyed writes of one event-loop turn go in one round trip and one
// transaction (src/store/postgres/turn-batch.ts). What callers must still see: each call its own
// answer (a duplicate is still a duplicate), calls on one key in the order they were made, and one
// bad call refused alone while the rest of its turn is kept.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { createTurnBatch } from "../../src/store/postgres/turn-batch.js";
import { openPgLedger } from "../../src/store/postgres/ledger.js";
import { createDatabase } from "../support/postgres.js";

const pools: pg.Pool[] = [];
after(async () => {
  await Promise.allSettled(pools.map((pool) => pool.end()));
});

/** A pool on a new database with a table of keys, and a count of the texts sent to the server. */
async function setUp(): Promise<{ pool: pg.Pool; sent: () => number }> {
  const pool = new pg.Pool({ connectionString: await createDatabase(), max: 4 });
  pools.push(pool);
  await pool.query("CREATE TABLE items (key TEXT PRIMARY KEY, note TEXT NOT NULL)");
  let sent = 0;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    sent += 1;
    return query(...args);
  };
  return { pool, sent: () => sent };
}

const INSERT = "INSERT INTO items (key, note) VALUES ($1, $2) ON CONFLICT DO NOTHING";

test("the writes of one turn go in one round trip, and each call gets its own row count", async () => {
  const { pool, sent } = await setUp();
  const batch = createTurnBatch(pool);
  // 60 calls in one turn, every third one a key written before it in the same turn.
  const keys = Array.from({ length: 60 }, (_unused, index) => `k${index % 3 === 2 ? index - 1 : index}`);
  const counts = await Promise.all(keys.map((key, index) => batch.run(key, true, INSERT, [key, `note ${index}`]).then((result) => result.rowCount)));
  assert.equal(sent(), 1);
  assert.deepEqual(
    counts,
    keys.map((_key, index) => (index % 3 === 2 ? 0 : 1)),
  );
  const stored = await pool.query<{ n: string }>("SELECT COUNT(*) AS n FROM items");
  assert.equal(Number(stored.rows[0]!.n), 40);
});

test("calls on one key run in the order they were made, whatever the other keys of the turn", async () => {
  const { pool } = await setUp();
  const batch = createTurnBatch(pool);
  // Sorted by key, "b" comes first; its insert, update and delete must still run in that order.
  await Promise.all([
    batch.run("z", true, INSERT, ["z", "last key"]),
    batch.run("b", true, INSERT, ["b", "first"]),
    batch.run("a", true, INSERT, ["a", "kept"]),
    batch.run("b", true, "UPDATE items SET note = $2 WHERE key = $1", ["b", "second"]),
    batch.run("b", true, "DELETE FROM items WHERE key = $1 AND note = $2", ["b", "second"]),
    batch.run("unlocked", false, INSERT, ["unlocked", "no lock"]),
  ]);
  const rows = await pool.query<{ key: string }>('SELECT key FROM items ORDER BY key COLLATE "C"');
  assert.deepEqual(
    rows.rows.map((row) => row.key),
    ["a", "unlocked", "z"],
  );
});

test("callers are answered in the order they called, across texts, whatever the order of their keys", async () => {
  const { pool, sent } = await setUp();
  const batch = createTurnBatch(pool);
  const answered: string[] = [];
  const call = (key: string) => batch.run(key, true, INSERT, [key, "x"]).then(() => void answered.push(key));
  const first = ["z", "m", "a"].map(call);
  // Made while the first text is on its way: they wait for the next one, and come after.
  await new Promise((resolve) => setImmediate(resolve));
  const second = ["y", "b"].map(call);
  await Promise.all([...first, ...second]);
  assert.deepEqual(answered, ["z", "m", "a", "y", "b"]);
  assert.equal(sent(), 2);
});

test("a call the server refuses fails alone; the rest of its turn is stored", async () => {
  const { pool } = await setUp();
  const batch = createTurnBatch(pool);
  const outcomes = await Promise.allSettled([
    batch.run("k1", true, INSERT, ["k1", "fine"]),
    // NOT NULL violated: the server aborts the whole text, then each call runs by itself.
    batch.run("k2", true, "INSERT INTO items (key, note) SELECT $1, NULL", ["k2"]),
    batch.run("k3", true, INSERT, ["k3", "fine too"]),
    // A NUL cannot be sent in the text at all: refused before it leaves.
    batch.run("k4", true, INSERT, ["k4", "cut\u0000short"]),
  ]);
  assert.deepEqual(
    outcomes.map((outcome) => outcome.status),
    ["fulfilled", "rejected", "fulfilled", "rejected"],
  );
  assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /null value/);
  assert.match(String((outcomes[3] as PromiseRejectedResult).reason), /NUL/);
  const rows = await pool.query<{ key: string }>('SELECT key FROM items ORDER BY key COLLATE "C"');
  assert.deepEqual(
    rows.rows.map((row) => row.key),
    ["k1", "k3"],
  );
});

test("through the ledger: an inbound id posted twice in one turn is stored once and answered as a duplicate", async () => {
  const ledger = await openPgLedger(await createDatabase());
  try {
    const inbox = ledger.forTransport("sms");
    const now = Date.now();
    const answers = await Promise.all(
      ["SM1", "SM2", "SM1", "SM3", "SM2"].map((key, index) => inbox.inboxAdd(key, "user@example.test", { body: `text ${index}` }, now)),
    );
    assert.deepEqual(answers, ["added", "added", "duplicate", "added", "duplicate"]);
    // Done in one turn with a new one: the done ids are remembered, so posting them again is a duplicate.
    await Promise.all([
      inbox.inboxDone("SM1", "user@example.test", { ok: true }, now + 60_000),
      inbox.inboxDone("SM2", "user@example.test", { ok: true }, now + 60_000),
    ]);
    const again = await Promise.all(["SM1", "SM2", "SM4"].map((key) => inbox.inboxAdd(key, "user@example.test", { body: key }, now)));
    assert.deepEqual(again, ["duplicate", "duplicate", "added"]);
    const waiting = await inbox.inboxPage("", 10);
    assert.deepEqual(
      waiting.map((row) => row.key),
      ["SM3", "SM4"],
    );
  } finally {
    await ledger.close();
  }
});
