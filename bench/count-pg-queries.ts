// A preload for the gateway process that counts its round trips to PostgreSQL (pg), by statement
// kind and table, and how many of them were sent outside BEGIN…COMMIT: each of those is a
// transaction of its own, and a write among them is committed, and synced to disk, by itself. It
// writes the tally to stderr (the gateway's log file) when the process exits. The PostgreSQL
// counterpart of count-queries.ts:
//   npm run bench -- --store postgresql --gateway-node-flag=--import=./dist/bench/count-pg-queries.js --keep …
//   sed -n '/postgresql round trips/,$p' /tmp/switchboard-bench-*/gw-*/gateway.log
// Measurement only: nothing in the gateway changes.
import { createRequire } from "node:module";

interface Client {
  query(config: unknown, ...rest: unknown[]): unknown;
}

const require = createRequire(import.meta.url);
const pg = require("pg") as { Client: { prototype: Client } };
const counts = new Map<string, number>();
const inTransaction = new WeakSet<Client>();
let roundTrips = 0;
let alone = 0;
/** Texts of several calls (src/store/postgres/turn-batch.ts), and the writes they carried. */
let groups = 0;
let groupedWrites = 0;

/** "INSERT keyv", "SELECT outbox", "lock+INSERT outbox": what a round trip was, without its values. */
function labelOf(text: string): string {
  // A call of the turn batch is its key's lock (for a ledger call) and its statement; a text of
  // several calls is counted as one group, with the writes it carried.
  const statements = text.split(/;\s*\n/).filter((part) => part.trim() !== "");
  const writes = statements.filter((part) => !/^\s*SELECT pg_advisory_xact_lock/.test(part)).length;
  if (writes > 1) {
    groups += 1;
    groupedWrites += writes;
    return "group of writes";
  }
  const last = statements[statements.length - 1] ?? "";
  const locked = statements.length > 1 && /pg_advisory_xact_lock/.test(statements[0] ?? "") ? "lock+" : "";
  // "WITH gone AS (DELETE FROM outbox …) INSERT INTO seen …": both parts named.
  const inner = /^\s*WITH\s+\w+\s+AS\s*\((.*?)\)\s*/is.exec(last);
  const parts = inner ? [inner[1] ?? "", last.slice(inner[0].length)] : [last];
  return `${locked}${parts.map(described).join("+")}`;
}

function described(statement: string): string {
  const verb = /^\s*(\w+)/.exec(statement)?.[1]?.toUpperCase() ?? "?";
  const table = /\b(?:FROM|INTO|UPDATE)\s+(?:public\.)?(\w+)/i.exec(statement)?.[1] ?? "";
  return `${verb} ${table}`.trim();
}

const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: Client, config: unknown, ...rest: unknown[]) {
  const text = typeof config === "string" ? config : ((config as { text?: string } | null)?.text ?? "");
  const label = labelOf(text);
  const verb = label.split(" ")[0];
  if (verb === "BEGIN") inTransaction.add(this);
  else if (!inTransaction.has(this)) alone += 1;
  if (verb === "COMMIT" || verb === "ROLLBACK") inTransaction.delete(this);
  counts.set(label, (counts.get(label) ?? 0) + 1);
  roundTrips += 1;
  return query.call(this, config, ...rest);
};

process.once("exit", () => {
  const lines = [...counts].sort((a, b) => b[1] - a[1]).map(([label, count]) => `${String(count).padStart(8)}  ${label}`);
  process.stderr.write(
    `postgresql round trips: ${roundTrips}, of them transactions of their own: ${alone}; groups of writes: ${groups}, carrying ${groupedWrites} writes\n${lines.join("\n")}\n`,
  );
});
