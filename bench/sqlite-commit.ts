// What one SQLite commit costs with each store.sync mode on this machine's disk: 2,000 single-row
// commits in WAL mode, as the gateway's store runs, in a temporary folder.
//   npm run build && node dist/bench/sqlite-commit.js
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const COMMITS = 2_000;
const dir = mkdtempSync(join(tmpdir(), "switchboard-commit-"));
try {
  for (const mode of ["NORMAL", "FULL"]) {
    const db = new Database(join(dir, `${mode}.sqlite`));
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${mode}`);
    db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)");
    const insert = db.prepare("INSERT INTO t VALUES (?, ?)");
    const started = process.hrtime.bigint();
    for (let i = 0; i < COMMITS; i += 1) insert.run(`key ${i}`, "x".repeat(200));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`synchronous=${mode}: ${(ms / COMMITS).toFixed(3)} ms per commit (${COMMITS} commits)`);
    db.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
