// Opens the embedded store: one SQLite file (better-sqlite3) holding both the keyv mappings and
// the ledger, in WAL mode. Statements run synchronously, so what a caller records is written
// before its next await.
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

export type SqliteDatabase = Database.Database;

/**
 * "full": a commit is on disk before it returns (survives power loss); "normal": WAL commits are
 * synced at checkpoints (survives a crash of the process; a power loss may take about the last second).
 */
export type SyncMode = "full" | "normal";

/**
 * Pages the log may hold before the commit that crosses the mark copies them into the database
 * file. SQLite's default, 1,000, made a busy gateway copy the same few hot pages (the queues' ends,
 * the indexes' upper levels) back dozens of times a second (docs/performance.md, "3 December,
 * evening"). 10,000 pages keep the log under about 40 MB.
 */
const WAL_PAGES = 10_000;
/**
 * A checkpoint follows the first commit after the last one by this much: with synchronous=NORMAL
 * it is the checkpoint that syncs the log to disk, so this bounds what a power loss can take when
 * too little is written to reach WAL_PAGES.
 */
export const CHECKPOINT_MS = 1_000;

/** The size the log is cut back to once checkpointed: what WAL_PAGES pages take. */
export function walLimitBytes(db: SqliteDatabase): number {
  return WAL_PAGES * (db.pragma("page_size", { simple: true }) as number);
}

export function openSqliteFile(file: string, sync: SyncMode = "normal"): SqliteDatabase {
  if (file !== ":memory:") mkdirSync(dirname(resolve(file)), { recursive: true, mode: 0o700 });
  const db = new Database(file, { timeout: 10_000 });
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${sync === "full" ? "FULL" : "NORMAL"}`);
  db.pragma(`wal_autocheckpoint = ${WAL_PAGES}`);
  // SQLite reuses the log file from its start after a checkpoint but never shrinks it: one large
  // transaction (a big account's removal) or a checkpoint held off by a long reader (a backup) would
  // leave it that large for good. Cut back to the size ordinary work reaches anyway.
  db.pragma(`journal_size_limit = ${walLimitBytes(db)}`);
  return db;
}

/** Prepares each distinct statement once. */
export interface StatementCache {
  statement(sql: string): Database.Statement;
  /** Runs `work` at once, inside this tick's transaction; resolves once that transaction is
   *  committed (every write of one event-loop tick shares one commit, so one sync to disk). */
  write<T>(work: () => T): Promise<T>;
  /** Like write(), for bookkeeping that need not be on disk soon (a crash before it only repeats
   *  work that is recognised as done): it joins the transaction open now, or the next one that
   *  opens, or at the latest one opened LAZY_WRITE_MS later. Saves a commit of its own. */
  writeLater(work: () => void): Promise<void>;
  /** Work whose statements must all happen or none (joins this tick's transaction when open). */
  transaction<T>(work: () => T): T;
  /** Writes and commits now whatever writeLater() holds, and any open transaction (before closing). */
  flush(): void;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** The longest a writeLater() waits for another write to share a commit with. */
const LAZY_WRITE_MS = 250;

export function statementCache(db: SqliteDatabase): StatementCache {
  const prepared = new Map<string, Database.Statement>();
  let batch: Waiter[] | null = null;
  let later: Array<{ work: () => void; resolve(): void; reject(error: unknown): void }> = [];
  let laterTimer: NodeJS.Timeout | null = null;
  let checkpointDue = false;

  const checkpoint = (): void => {
    checkpointDue = false;
    if (!db.open) return;
    // A transaction opened earlier in this turn is committed at its end: check again after it.
    if (db.inTransaction) {
      checkpointDue = true;
      setTimeout(checkpoint, 0).unref();
      return;
    }
    try {
      // PASSIVE copies what no reader still needs and never waits.
      db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // The disk refused (full, read-only): the next commit schedules another, and the commits
      // themselves report what fails.
    }
  };

  const commit = (): void => {
    // Already committed (flush() came first): nothing is open.
    if (!batch) return;
    const waiters = batch;
    batch = null;
    try {
      if (db.inTransaction) db.exec("COMMIT");
      else throw new Error("the store's transaction was rolled back (a statement in it failed)");
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    if (!checkpointDue) {
      checkpointDue = true;
      setTimeout(checkpoint, CHECKPOINT_MS).unref();
    }
    for (const waiter of waiters) waiter.resolve();
  };

  const open = (): Waiter[] => {
    if (batch) return batch;
    db.exec("BEGIN");
    batch = [];
    setImmediate(commit);
    // Bookkeeping that waited for a transaction joins this one.
    if (laterTimer) clearTimeout(laterTimer);
    laterTimer = null;
    const waiting = later;
    later = [];
    for (const item of waiting) run(open(), item.work).then(item.resolve, item.reject);
    return open();
  };

  const run = <T>(waiters: Waiter[], work: () => T): Promise<T> => {
    let result: T;
    try {
      result = work();
    } catch (error) {
      // A failed statement may have ended the transaction: then the whole tick's writes fail.
      if (!db.inTransaction) commit();
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => waiters.push({ resolve: () => resolve(result), reject }));
  };

  return {
    statement(sql) {
      let found = prepared.get(sql);
      if (!found) {
        found = db.prepare(sql);
        prepared.set(sql, found);
      }
      return found;
    },
    write(work) {
      return run(open(), work);
    },
    writeLater(work) {
      if (batch) return run(batch, work);
      return new Promise<void>((resolve, reject) => {
        later.push({ work, resolve, reject });
        laterTimer ??= setTimeout(() => {
          laterTimer = null;
          try {
            if (later.length > 0) open();
          } catch (error) {
            // The database is closed or failing: what waited is not written.
            const waiting = later;
            later = [];
            for (const item of waiting) item.reject(error);
          }
        }, LAZY_WRITE_MS);
        laterTimer.unref();
      });
    },
    flush() {
      if (later.length > 0) open();
      if (batch) commit();
    },
    transaction(work) {
      // Inside an open transaction better-sqlite3 uses a savepoint: still all or nothing.
      return db.transaction(work)();
    },
  };
}
