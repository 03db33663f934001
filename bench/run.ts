// npm run bench: starts the real servers, runs every scenario and its baseline several times and
// prints one table of medians (also bench/results/latest.json and latest.md).
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { killAll } from "./cleanup.js";
import { parseOptions, USAGE } from "./options.js";
import { budgetRowOf, budgetTerminal } from "./budget.js";
import { terminalTable, rowOf, writeResults, type ScenarioOutcome } from "./report.js";
import type { BenchContext, Scenario } from "./scenario.js";
import { emailToXmpp } from "./scenarios/email-to-xmpp.js";
import { idleAccounts } from "./scenarios/idle-accounts.js";
import { lmtpToXmpp } from "./scenarios/lmtp-to-xmpp.js";
import { smsToXmpp } from "./scenarios/sms-to-xmpp.js";
import { xmppToEmail } from "./scenarios/xmpp-to-email.js";
import { xmppToSms } from "./scenarios/xmpp-to-sms.js";
import { startServers, type Servers } from "./servers.js";

const SCENARIOS: Scenario[] = [xmppToSms, smsToXmpp, xmppToEmail, emailToXmpp, lmtpToXmpp, idleAccounts];

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseOptions(argv);
    // The PostgreSQL the bench starts syncs to disk as a shipped server does (the tests' does not).
    if (options.store === "postgresql") process.env.SWITCHBOARD_PG_DURABLE = "1";
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const unknown = (options.only ?? []).filter((id) => !SCENARIOS.some((scenario) => scenario.id === id));
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(", ")}\n\n${USAGE}`);
    return 64;
  }
  const chosen = SCENARIOS.filter((scenario) => !options.only || options.only.includes(scenario.id));

  const dist = dirname(dirname(fileURLToPath(import.meta.url)));
  const root = dirname(dist);
  // The gateway and the baselines run from a copy: others may rebuild dist/ while the bench runs.
  // One per bench process, so that two benches never share one.
  const snapshot = join(root, ".bench-dist", String(process.pid));
  rmSync(snapshot, { recursive: true, force: true });
  cpSync(dist, snapshot, { recursive: true });

  const tmp = mkdtempSync(join(tmpdir(), "switchboard-bench-"));
  chmodSync(tmp, 0o711); // Dovecot's unprivileged processes must reach their folder inside
  const say = (line: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
  let servers: Servers | null = null;
  const shutdown = async (): Promise<void> => {
    killAll();
    await servers?.stop();
    servers = null;
    if (!options.keep) rmSync(tmp, { recursive: true, force: true });
    rmSync(snapshot, { recursive: true, force: true });
  };
  process.once("SIGINT", () => {
    say("interrupted; stopping everything");
    void shutdown().finally(() => process.exit(130));
  });
  process.once("exit", killAll);

  const outcomes: ScenarioOutcome[] = [];
  const startedAt = new Date().toISOString();
  // Read before the run: others may commit while it goes on.
  const code = codeVersion(root);
  // Others' work shares the machine: say how busy it was, since absolute rates depend on it.
  const loadAtStart = loadavg()[0]!;
  try {
    servers = await startServers(tmp, chosen.includes(idleAccounts) ? options.accounts : 0);
    say(
      `servers up in ${tmp}: prosody c2s ${servers.prosody.c2sPort}, dovecot imap ${servers.dovecot.imapPort}, smtp ${servers.smtp.port}, twilio ${servers.twilio.baseUrl}`,
    );
    for (const [position, scenario] of chosen.entries()) {
      const outcome: ScenarioOutcome = { scenario, runs: [], errors: [] };
      outcomes.push(outcome);
      for (let run = 1; run <= options.runs; run += 1) {
        const ctx: BenchContext = {
          servers,
          distDir: snapshot,
          tmp,
          count: options.count,
          accounts: options.accounts,
          tag: (SCENARIOS.indexOf(scenario) + 1) * 1_000 + position * 100 + run,
          logLevel: options.logLevel,
          sync: options.sync,
          store: options.store,
          // A preload named relative to the repository must still be found from the gateway's folder.
          nodeFlags: options.nodeFlags.map((flag) => flag.replace(/^--import=\.\/dist\//, `--import=${snapshot}/`)),
          say,
        };
        say(`${scenario.title}: run ${run} of ${options.runs}`);
        try {
          const result = await scenario.run(ctx);
          outcome.runs.push(result);
          say(
            `${scenario.title}: ${result.rate !== undefined ? `${result.rate.toFixed(0)} msg/s, baseline ${result.baselineRate?.toFixed(0)} msg/s, ` : ""}value ${result.value.toFixed(2)}, peak RSS ${(result.peakRssKb / 1024).toFixed(0)} MB${result.problems.length ? `; PROBLEMS: ${result.problems.join("; ")}` : ""}`,
          );
        } catch (error) {
          outcome.errors.push(`run ${run}: ${(error as Error).stack ?? String(error)}`);
          say(`${scenario.title}: run ${run} failed: ${(error as Error).message}`);
        }
      }
    }
  } finally {
    await shutdown();
  }

  const rows = outcomes.map(rowOf);
  console.log(`\n${terminalTable(rows)}\n`);
  const budget = budgetTerminal(outcomes.map(budgetRowOf));
  if (budget) console.log(`CPU at the target:\n${budget}\n`);
  const args = argv.join(" ");
  const meta = {
    args,
    code,
    count: options.count,
    runs: options.runs,
    accounts: options.accounts,
    logLevel: options.logLevel,
    sync: options.sync,
    store: options.store,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: `${cpus().length} cores, Node ${process.version}`,
    loadAverage: { atStart: loadAtStart, atEnd: loadavg()[0]! },
  };
  const files = writeResults(options.resultsDir ?? join(root, "bench", "results"), meta, outcomes);
  console.log(`written: ${files.json}, ${files.md}`);
  return rows.every((row) => row.pass) ? 0 : 1;
}

/** Which code was measured: the commit, and the files under src/ and transports/ that differ from it
 *  (the checkout is shared, and the bench builds whatever is there). */
function codeVersion(root: string): { commit: string; uncommitted: string[] } {
  const git = (args: string[]): string => spawnSync("git", args, { cwd: root, encoding: "utf8", timeout: 10_000 }).stdout?.trim() ?? "";
  return { commit: git(["rev-parse", "--short", "HEAD"]), uncommitted: git(["status", "--porcelain", "--", "src", "transports"]).split("\n").filter(Boolean) };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    killAll();
    process.exit(1);
  },
);
