// A preload for the gateway process that counts the SQL statements and transactions it runs on
// SQLite (better-sqlite3), by kind and table, and writes the tally to stderr (the gateway's log
// file) when it exits, with the pages its commits wrote to the write-ahead log, by table and index.
// To count those, the preload takes over SQLite's automatic checkpoint (every 1,000 pages) with its
// own, every CHECKPOINT_EVERY commits, reading the log just before (wal-frames.ts). Run it as:
//   npm run bench -- --gateway-node-flag=--import=./dist/bench/count-queries.js …
// (a path relative to the repository; the bench makes it absolute). Measurement only: nothing in the
// gateway changes.
import { createRequire } from "node:module";
import { tallyLogPages } from "./wal-frames.js";

type Method = (this: { source: string }, ...args: unknown[]) => unknown;

const require = createRequire(import.meta.url);
interface Handle {
  readonly name: string;
  prepare(sql: string): { all(): unknown[] };
  pragma(text: string, options?: { simple?: boolean }): unknown;
  close(): void;
  readonly memory: boolean;
  readonly open: boolean;
}
const Database = require("better-sqlite3") as {
  new (file: string): Handle;
  prototype: Record<string, (this: Handle, ...args: unknown[]) => unknown>;
};
const counts = new Map<string, number>();
let total = 0;
let transactions = 0;
/** Set while the preload runs statements of its own, which are not the gateway's to count. */
let ownReading = false;
/** Statements run through exec(): the SQLite engine's BEGIN and COMMIT of each turn's writes. */
const execs = new Map<string, number>();

// Statements are native objects sharing one prototype: take it from a throwaway database.
const probe = new Database(":memory:");
const statementPrototype = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, Method>;
probe.close();

for (const name of ["run", "get", "all", "iterate"]) {
  const original = statementPrototype[name];
  if (typeof original !== "function") continue;
  statementPrototype[name] = function (this: { source: string }, ...args: unknown[]) {
    if (ownReading) return original.apply(this, args);
    const sql = this.source;
    const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? "?";
    const table = /\b(?:FROM|INTO|UPDATE)\s+(\w+)/i.exec(sql)?.[1] ?? "";
    // keyv rows: the key's table prefix ("sms.registrations:…") says which mapping it is.
    const key = table === "keyv" && typeof args[0] === "string" ? ` ${args[0].split(":")[0]}` : "";
    const label = `${verb} ${table}${key}`.trim();
    counts.set(label, (counts.get(label) ?? 0) + 1);
    total += 1;
    return original.apply(this, args);
  };
}

const CHECKPOINT_EVERY = 30;
/** Per database: commits since the last checkpoint. */
const sinceCheckpoint = new WeakMap<Handle, number>();
/** Pages written to the log, by the table or index they belong to. */
const pages = new Map<string, number>();
const checkpoint = (db: Handle): void => {
  ownReading = true;
  try {
    tallyLogPages(db, pages);
    // Emptied, so that the next reading counts only what was written since.
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    ownReading = false;
  }
  sinceCheckpoint.set(db, 0);
};

const exec = Database.prototype.exec!;
Database.prototype.exec = function (this: Handle, ...args: unknown[]) {
  const verb = typeof args[0] === "string" ? (/^\s*(\w+)/.exec(args[0])?.[1]?.toUpperCase() ?? "?") : "?";
  execs.set(verb, (execs.get(verb) ?? 0) + 1);
  if (verb === "BEGIN" && !sinceCheckpoint.has(this) && !this.memory) {
    ownReading = true;
    this.pragma("wal_autocheckpoint = 0");
    ownReading = false;
  }
  const result = exec.apply(this, args);
  if (verb === "COMMIT" && !this.memory) {
    const commits = (sinceCheckpoint.get(this) ?? 0) + 1;
    sinceCheckpoint.set(this, commits);
    if (commits >= CHECKPOINT_EVERY) checkpoint(this);
  }
  return result;
};

const close = Database.prototype.close!;
Database.prototype.close = function (this: Handle, ...args: unknown[]) {
  if (this.open && !this.memory && sinceCheckpoint.has(this)) checkpoint(this);
  return close.apply(this, args);
};

const transaction = Database.prototype.transaction!;
Database.prototype.transaction = function (this: Handle, ...args: unknown[]) {
  const wrapped = transaction.apply(this, args) as (...inner: unknown[]) => unknown;
  return (...inner: unknown[]) => {
    transactions += 1;
    return wrapped(...inner);
  };
};

process.once("exit", () => {
  const lines = [...counts].sort((a, b) => b[1] - a[1]).map(([label, count]) => `${String(count).padStart(8)}  ${label}`);
  const commits = [...execs].map(([verb, count]) => `${verb} ${count}`).join(", ");
  const written = [...pages].sort((a, b) => b[1] - a[1]);
  const pageLines = written.map(([name, count]) => `${String(count).padStart(8)}  ${name}`);
  const pageTotal = written.reduce((sum, [, count]) => sum + count, 0);
  process.stderr.write(
    `sqlite statements: ${total}, transactions: ${transactions}, exec: ${commits}\n${lines.join("\n")}\n` +
      `pages written to the log: ${pageTotal}\n${pageLines.join("\n")}\n`,
  );
});
