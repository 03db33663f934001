// The bench's command line.
import { parseArgs } from "node:util";

export interface BenchOptions {
  count: number;
  runs: number;
  accounts: number;
  only: string[] | null;
  logLevel: string;
  /** store.sync of the gateway's SQLite store. */
  sync: "normal" | "full";
  /** Where the gateway keeps its store: an SQLite file, or a PostgreSQL 15 database the bench starts. */
  store: "sqlite" | "postgresql";
  /** Node flags for the gateway process (e.g. --cpu-prof --cpu-prof-dir=DIR). */
  nodeFlags: string[];
  keep: boolean;
  resultsDir: string | null;
}

export const USAGE = `npm run bench -- [--count N] [--runs N] [--accounts N] [--only a,b] [--log-level L] [--sync normal|full] [--store sqlite|postgresql] [--gateway-node-flag F]… [--keep] [--results DIR]

  --count N        messages per throughput scenario (default 5000)
  --runs N         runs of every scenario; the table shows medians (default 3)
  --accounts N     personal mailboxes in the idle-accounts scenario (default 500)
  --only IDS       comma-separated scenarios: xmpp-to-sms, sms-to-xmpp, xmpp-to-email, email-to-xmpp,
                   lmtp-to-xmpp, idle-accounts
  --log-level L    the gateway's log level (default info, as shipped)
  --sync MODE      the SQLite store's store.sync: normal (default, as shipped) or full
  --store ENGINE   sqlite (default) or postgresql: a PostgreSQL 15 cluster the bench starts, syncs on
  --gateway-node-flag F   pass F to the gateway's node (repeatable), e.g. --cpu-prof
  --keep           keep the temporary folder (server logs, gateway logs, profiles)
  --results DIR    write latest.json/latest.md there instead of bench/results (partial runs)`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: "string", default: "5000" },
      runs: { type: "string", default: "3" },
      accounts: { type: "string", default: "500" },
      only: { type: "string" },
      "log-level": { type: "string", default: "info" },
      sync: { type: "string", default: "normal" },
      store: { type: "string", default: "sqlite" },
      "gateway-node-flag": { type: "string", multiple: true, default: [] },
      keep: { type: "boolean", default: false },
      results: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name: string, text: string, max: number): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`--${name} must be a whole number from 1 to ${max}, not "${text}"`);
    return value;
  };
  return {
    count: positive("count", values.count, 100_000),
    runs: positive("runs", values.runs, 20),
    accounts: positive("accounts", values.accounts, 2_000),
    only: values.only
      ? values.only
          .split(",")
          .map((id) => id.trim())
          .filter(Boolean)
      : null,
    logLevel: values["log-level"],
    store:
      values.store === "sqlite" ? "sqlite" : values.store === "postgresql" ? "postgresql" : fail(`--store must be sqlite or postgresql, not "${values.store}"`),
    sync: values.sync === "full" ? "full" : values.sync === "normal" ? "normal" : fail(`--sync must be normal or full, not "${values.sync}"`),
    nodeFlags: values["gateway-node-flag"],
    keep: values.keep,
    resultsDir: values.results ?? null,
  };
}

function fail(message: string): never {
  throw new Error(message);
}
