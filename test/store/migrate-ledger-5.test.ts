// A SQLite store written by the ledger's fifth schema opens under the sixth: every waiting row and
// remembered id is still there and found by the ledger, a user's rows are still all removed, and
// the indexes that only cost page writes are gone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createLogger } from "../../src/log.js";
import { MIGRATIONS } from "../../src/store/ledger/schema.js";
import { openStore } from "../../src/store/store.js";

const log = createLogger("silent");
const NOW = Date.now();
const LATER = NOW + 3_600_000;

/** A store file as the code before migration 6 left it, with a row in every queue. */
function writeVersion5Store(file: string): void {
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE keyv (key VARCHAR(255) PRIMARY KEY, value TEXT)");
    db.exec("CREATE TABLE ledger_version (version BIGINT NOT NULL)");
    for (const migration of MIGRATIONS.filter((candidate) => candidate.version <= 5)) {
      for (const statement of migration.statements) db.exec(statement);
      db.prepare("INSERT INTO ledger_version (version) VALUES (?)").run(migration.version);
    }
    const outbox = db.prepare(
      "INSERT INTO outbox (transport, id, user_jid, peer, due_at, entry, claimed_by, claimed_until, taken_at) VALUES ('sms', ?, 'juliet@example.test', '+15550100', ?, ?, '', 0, ?)",
    );
    outbox.run("waiting-2", NOW - 1_000, JSON.stringify({ body: "second" }), NOW - 1_000);
    outbox.run("waiting-1", NOW - 2_000, JSON.stringify({ body: "first" }), NOW - 2_000);
    db.prepare("INSERT INTO inbox (transport, source_key, user_jid, stored, received_at) VALUES ('sms', 'SM1', 'juliet@example.test', ?, ?)").run(
      JSON.stringify({ body: "pending" }),
      NOW,
    );
    db.prepare(
      "INSERT INTO seen (transport, kind, seen_key, user_jid, value, expires_at) VALUES ('sms', 'in', 'SM0', 'juliet@example.test', '{\"excerpt\":\"hi\"}', ?)",
    ).run(LATER);
    db.prepare("INSERT INTO intake (transport, mark, user_jid, stanza) VALUES ('sms', '0001', 'juliet@example.test', '<message/>')").run();
    db.prepare('INSERT INTO keyv (key, value) VALUES (\'sms.registrations:juliet@example.test\', \'{"value":{"number":"+15550199"}}\')').run();
  } finally {
    db.close();
  }
}

test("a store of the fifth ledger schema opens under the sixth with every row in place", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-migrate-5-"));
  const file = join(dir, "store.sqlite");
  try {
    writeVersion5Store(file);
    const store = await openStore(`sqlite://${file}`, log);
    const sms = store.ledger.forTransport("sms");
    const claimed = await sms.outboxClaim<{ body: string }>(NOW, 10, { owner: "me", until: NOW + 60_000 });
    assert.deepEqual(
      claimed.map((row) => row.entry.body),
      ["first", "second"],
      "waiting messages keep their order",
    );
    assert.deepEqual(await sms.inboxPage("", 10), [{ key: "SM1", stored: { body: "pending" } }]);
    assert.deepEqual(await sms.seenGet("in", "SM0", NOW), { excerpt: "hi" });
    assert.equal(await sms.inboxAdd("SM0", "juliet@example.test", { body: "again" }, NOW), "duplicate", "a delivered id still keeps a copy out");
    assert.deepEqual(await sms.intakePending?.(), [{ mark: "0001", stanza: "<message/>" }]);
    assert.deepEqual(await store.table("sms.registrations").get("juliet@example.test"), { number: "+15550199" });
    assert.equal(await sms.removeUser("juliet@example.test"), 5, "every queue row of the user is found by the scan");
    await store.close();

    const db = new Database(file, { readonly: true });
    try {
      const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as Array<{ name: string }>)
        .map((row) => row.name)
        .sort();
      assert.deepEqual(indexes, ["outbox_conversation", "outbox_due", "relay_due", "seen_expires", "seen_user"]);
      assert.equal((db.prepare("SELECT MAX(version) AS v FROM ledger_version").get() as { v: number }).v, 6);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
