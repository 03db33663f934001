// A preload for the gateway process that counts the SQL statements it sends to SQLite, by kind and
// table prefix, and writes the tally to stderr (the gateway's log file) when it exits:
//   npm run bench -- --gateway-node-flag=--import=./dist/bench/count-queries.js …
// (a path relative to the repository; the bench makes it absolute). Measurement only: nothing in the
// gateway changes.
import { createRequire } from "node:module";

type Method = (this: unknown, sql: string, ...rest: unknown[]) => unknown;

const require = createRequire(import.meta.url);
const sqlite3 = require("sqlite3") as { Database: { prototype: Record<string, Method> } };
const counts = new Map<string, number>();
let total = 0;

for (const name of ["all", "run", "get", "each", "exec"]) {
  const original = sqlite3.Database.prototype[name];
  if (typeof original !== "function") continue;
  sqlite3.Database.prototype[name] = function (this: unknown, sql: string, ...rest: unknown[]) {
    const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? "?";
    // Keys start with the store table ("sms.outbox:…"); the first parameter usually is the key.
    const key = typeof rest[0] === "string" ? rest[0].split(":")[0]! : "";
    const label = `${verb} ${key}`.trim();
    counts.set(label, (counts.get(label) ?? 0) + 1);
    total += 1;
    return original.call(this, sql, ...rest);
  };
}

process.once("exit", () => {
  const lines = [...counts].sort((a, b) => b[1] - a[1]).map(([label, count]) => `${String(count).padStart(8)}  ${label}`);
  process.stderr.write(`sqlite statements: ${total}\n${lines.join("\n")}\n`);
});
