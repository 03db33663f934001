// What naming the store's statements saves on PostgreSQL (src/store/postgres/prepared.ts): the
// store's own mapping writes and reads (an upsert and a select, as keyv sends them), one after the
// other on a pool of one connection, sent unnamed and then named, alternating rounds in one run.
// Prints the time per pair and the named/unnamed ratio, wall and this process's CPU.
//   npx tsc -p . --outDir .build-perf && node .build-perf/bench/pg-prepared.js
import pg from "pg";
import { prepared } from "../src/store/postgres/prepared.js";
// The cluster the tests use, started here and stopped when this process exits.
import { createDatabase } from "../test/support/postgres.js";

const PAIRS = 3_000;
const ROUNDS = 3;
const UPSERT = "INSERT INTO keyv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
const SELECT = "SELECT value FROM keyv WHERE key = ANY($1)";

async function round(pool: pg.Pool, named: boolean): Promise<{ wallUs: number; cpuUs: number }> {
  const query = (text: string, values: unknown[]) => pool.query(named ? prepared(text, values) : { text, values });
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  for (let i = 0; i < PAIRS; i += 1) {
    await query(UPSERT, [`bench:k${i % 100}`, JSON.stringify({ f: 1, value: { n: i, text: "x".repeat(50) }, expires: Date.now() + 60_000 })]);
    await query(SELECT, [[`bench:k${(i * 7) % 100}`]]);
  }
  const used = process.cpuUsage(cpu);
  return { wallUs: Number(process.hrtime.bigint() - wall) / 1_000 / PAIRS, cpuUs: (used.user + used.system) / PAIRS };
}

const pool = new pg.Pool({ connectionString: await createDatabase(), max: 1 });
try {
  await pool.query("CREATE TABLE keyv (key VARCHAR(2048) PRIMARY KEY, value TEXT)");
  await round(pool, false);
  await round(pool, true);
  const totals = { unnamed: { wallUs: 0, cpuUs: 0 }, named: { wallUs: 0, cpuUs: 0 } };
  for (let r = 0; r < ROUNDS; r += 1) {
    for (const kind of ["unnamed", "named"] as const) {
      const result = await round(pool, kind === "named");
      totals[kind].wallUs += result.wallUs / ROUNDS;
      totals[kind].cpuUs += result.cpuUs / ROUNDS;
    }
  }
  for (const kind of ["unnamed", "named"] as const) {
    console.log(
      `${kind.padEnd(8)} ${totals[kind].wallUs.toFixed(0).padStart(5)} µs per write+read (wall), ${totals[kind].cpuUs.toFixed(0).padStart(4)} µs CPU here`,
    );
  }
  console.log(
    `named / unnamed: wall ${(totals.named.wallUs / totals.unnamed.wallUs).toFixed(2)}, CPU here ${(totals.named.cpuUs / totals.unnamed.cpuUs).toFixed(2)} (${PAIRS} pairs x ${ROUNDS} rounds each)`,
  );
} finally {
  await pool.end();
}
