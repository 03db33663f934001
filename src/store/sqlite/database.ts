// Opens the embedded store: one SQLite file (better-sqlite3) holding both the keyv mappings and
// the ledger, in WAL mode. Statements run synchronously, so what a caller records is written
// before its next await.
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

export type SqliteDatabase = Database.Database;

/**
 * "full": a commit is on disk before it returns (survives power loss); "normal": WAL commits are
 * synced at checkpoints (survives a crash of the process, may lose the last commits on power loss).
 */
export type SyncMode = "full" | "normal";

export function openSqliteFile(file: string, sync: SyncMode = "full"): SqliteDatabase {
  if (file !== ":memory:") mkdirSync(dirname(resolve(file)), { recursive: true, mode: 0o700 });
  const db = new Database(file, { timeout: 10_000 });
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${sync === "full" ? "FULL" : "NORMAL"}`);
  return db;
}

/** Prepares each distinct statement once and counts what runs (for the benchmark's figures). */
export interface StatementCache {
  statement(sql: string): Database.Statement;
  transaction<T>(work: () => T): T;
  readonly counts: { statements: number; transactions: number };
}

export function statementCache(db: SqliteDatabase): StatementCache {
  const prepared = new Map<string, Database.Statement>();
  const counts = { statements: 0, transactions: 0 };
  return {
    statement(sql) {
      let found = prepared.get(sql);
      if (!found) {
        found = db.prepare(sql);
        prepared.set(sql, found);
      }
      counts.statements += 1;
      return found;
    },
    transaction(work) {
      counts.transactions += 1;
      // A nested call joins the transaction already open.
      return db.inTransaction ? work() : db.transaction(work)();
    },
    counts,
  };
}
