// Runs the fault suite once per store, SQLite then PostgreSQL, and writes docs/reliability.md from
// both passes. Scenarios in `*.postgres.fault.ts` need several instances on one database and run
// in the PostgreSQL pass only. `FAULT_STORES=postgresql` runs one pass; arguments pick scenario
// files by name (`node run.js failover`), for a narrower run while working on one.
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PASSES, RESULTS } from "./ledger.js";

const here = dirname(fileURLToPath(import.meta.url));
const stores = (process.env.FAULT_STORES ?? "sqlite,postgresql").split(",").map((store) => store.trim()) as Array<"sqlite" | "postgresql">;
const picked = process.argv.slice(2);
const files = readdirSync(here)
  .filter((file) => file.endsWith(".fault.js") && (picked.length === 0 || picked.some((name) => file.includes(name))))
  .sort();

rmSync(dirname(RESULTS), { recursive: true, force: true });
mkdirSync(dirname(RESULTS), { recursive: true });
let status = 0;
for (const store of stores) {
  const pass = files.filter((file) => store === "postgresql" || !file.endsWith(".postgres.fault.js"));
  if (pass.length === 0) continue;
  console.log(`\n# fault suite on ${store}: ${pass.join(", ")}`);
  const started = Date.now();
  const run = spawnSync("node", ["--test", "--test-concurrency=1", ...pass.map((file) => join(here, file))], {
    stdio: "inherit",
    env: { ...process.env, SWITCHBOARD_TEST_STORE: store },
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  appendFileSync(PASSES, `${JSON.stringify({ store, files: pass, seconds, status: run.status })}\n`);
  console.log(`# fault suite on ${store}: ${run.status === 0 ? "passed" : "FAILED"} in ${seconds} s`);
  if (run.status !== 0) status = 1;
}
const report = spawnSync("node", [join(here, "report.js")], { stdio: "inherit" });
process.exit(status || (report.status ?? 1));
