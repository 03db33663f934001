// With store.sync "normal" a commit reaches the log file in the operating system's cache, and only a
// checkpoint syncs it and copies it into the database file. A power loss takes what the log held
// unsynced; the store checkpoints about a second after a commit, so that is at most the last second,
// however little the gateway writes. Here a "power loss" keeps the database file and loses the log.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { CHECKPOINT_MS, openSqliteFile, type StatementCache, statementCache, walLimitBytes } from "../../src/store/sqlite/database.js";

/** The rows a copy of the database file alone holds, as after losing the log. */
function rowsWithoutLog(dir: string, file: string): string[] {
  const copy = join(dir, `copy-${Date.now()}.sqlite`);
  copyFileSync(file, copy);
  const db = new Database(copy, { readonly: true });
  try {
    return (db.prepare("SELECT note FROM notes ORDER BY note").all() as Array<{ note: string }>).map((row) => row.note);
  } finally {
    db.close();
  }
}

/** A store file with a table of notes whose creation is already in the database file. */
async function withNotes(work: (sql: StatementCache, rows: () => string[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-checkpoint-"));
  const file = join(dir, "store.sqlite");
  const db = openSqliteFile(file);
  try {
    db.exec("CREATE TABLE notes (note TEXT NOT NULL)");
    db.pragma("wal_checkpoint(TRUNCATE)");
    await work(statementCache(db), () => rowsWithoutLog(dir, file));
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const note = (sql: StatementCache, text: string): Promise<unknown> => sql.write(() => sql.statement("INSERT INTO notes (note) VALUES (?)").run(text));

test("a commit is in the database file a second later, without waiting for the log to fill", async () => {
  await withNotes(async (sql, rows) => {
    await note(sql, "first");
    assert.deepEqual(rows(), [], "committed, but so far only in the log");

    await sleep(CHECKPOINT_MS + 500);
    assert.deepEqual(rows(), ["first"]);

    // The next commit schedules the next checkpoint.
    await note(sql, "second");
    await sleep(CHECKPOINT_MS + 500);
    assert.deepEqual(rows(), ["first", "second"]);
  });
});

test("rows written while transactions keep opening around the checkpoint's moment all reach the database file", async () => {
  await withNotes(async (sql, rows) => {
    await note(sql, "first");
    // Keep opening a transaction in every timer turn around the moment the checkpoint is due.
    const until = Date.now() + CHECKPOINT_MS + 300;
    let writes = 0;
    while (Date.now() < until) {
      await sleep(5);
      void note(sql, `busy ${writes}`);
      writes += 1;
    }
    await sleep(CHECKPOINT_MS + 500);
    assert.equal(rows().length, writes + 1, "every row reached the database file");
  });
});

test("after one transaction larger than the log's usual size, the log file is cut back to that size", async () => {
  await withNotes(async (sql) => {
    const file = sql.statement("PRAGMA database_list").get() as { file: string };
    const logBytes = (): number => statSync(`${file.file}-wal`).size;
    const limit = walLimitBytes(sql.statement("SELECT 1").database);
    // A removal of a large account, say: one commit writing more pages than the log usually holds.
    const page = "x".repeat(4000);
    await sql.write(() => {
      const insert = sql.statement("INSERT INTO notes (note) VALUES (?)");
      for (let i = 0; i < Math.ceil((limit * 1.3) / 4000); i += 1) insert.run(`${i} ${page}`);
    });
    assert.ok(logBytes() > limit, `the log grew past ${limit} bytes with the transaction (${logBytes()})`);

    await sleep(CHECKPOINT_MS + 500);
    await note(sql, "after");
    assert.ok(logBytes() <= limit, `the log is back within ${limit} bytes (${logBytes()})`);
  });
});
