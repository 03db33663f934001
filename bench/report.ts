// Turns the runs into the one table (medians over runs) for the terminal, Markdown and JSON.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { meets, type RunResult, type Scenario } from "./scenario.js";
import { median } from "./stats.js";

export interface ScenarioOutcome {
  scenario: Scenario;
  runs: RunResult[];
  /** Runs that could not finish at all (a server would not start…). */
  errors: string[];
}

export interface Row {
  scenario: string;
  rate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  peakRssMb: number | null;
  baselineRate: number | null;
  value: number | null;
  /** CPU ms per message of the gateway and of its baseline (medians). */
  cpuGatewayMs: number | null;
  cpuBaselineMs: number | null;
  /** CPU ms per message of everything else on the machine while the gateway worked (medians). */
  cpuOthersMs: number | null;
  /** Of it, the bench's own process (its clients, stand-ins and load). */
  cpuBenchMs: number | null;
  /** The most CPU ms per message the gateway could spend and still meet the target here (see allowedOf). */
  cpuAllowedMs: number | null;
  target: string;
  pass: boolean;
  runs: number;
  problems: string[];
}

const med = (runs: RunResult[], pick: (run: RunResult) => number | undefined): number | null => {
  const values = runs.map(pick).filter((value): value is number => typeof value === "number" && Number.isFinite(value));
  return values.length > 0 ? median(values) : null;
};

export function rowOf(outcome: ScenarioOutcome): Row {
  const { scenario, runs } = outcome;
  const value = med(runs, (run) => run.value);
  const problems = [...outcome.errors, ...runs.flatMap((run, index) => run.problems.map((problem) => `run ${index + 1}: ${problem}`))];
  const others = med(runs, (run) => run.details.othersCpuMsPerMessage as number | undefined);
  const target = scenario.target.kind === "min-ratio" ? `≥ ${scenario.target.value}` : `≤ ${scenario.target.value} KB/account`;
  return {
    scenario: scenario.title,
    rate: med(runs, (run) => run.rate),
    p50Ms: med(runs, (run) => run.p50Ms),
    p99Ms: med(runs, (run) => run.p99Ms),
    peakRssMb: med(runs, (run) => run.peakRssKb / 1024),
    baselineRate: med(runs, (run) => run.baselineRate),
    value,
    cpuGatewayMs: med(runs, (run) => run.details.gatewayCpuMsPerMessage as number | undefined),
    cpuBaselineMs: med(runs, (run) => run.details.baselineCpuMsPerMessage as number | undefined),
    cpuOthersMs: others,
    cpuBenchMs: med(runs, (run) => run.details.benchCpuMsPerMessage as number | undefined),
    cpuAllowedMs: allowedOf(
      scenario,
      med(runs, (run) => run.baselineRate),
      med(runs, (run) => run.details.cores as number | undefined),
      others,
    ),
    target,
    // Any loss, duplicate or failed run fails the scenario, however fast the others were.
    pass: runs.length > 0 && problems.length === 0 && value !== null && meets(scenario.target, value),
    runs: runs.length,
    problems,
  };
}

/**
 * At the target the gateway handles target × baseline messages a second. Its JavaScript runs on one
 * thread, which has 1000 ms of CPU a second; and it shares the machine's cores with the others,
 * whose CPU per message stays what it was. Whichever of the two leaves less bounds the gateway's
 * CPU per message. It is an upper bound: no run keeps every core busy.
 */
function allowedOf(scenario: Scenario, baselineRate: number | null, cores: number | null, others: number | null): number | null {
  if (scenario.target.kind !== "min-ratio" || baselineRate === null || cores === null || others === null) return null;
  const msPerMessage = 1000 / (scenario.target.value * baselineRate);
  return Math.min(msPerMessage, cores * msPerMessage - others);
}

const fixed = (value: number | null, digits: number): string => (value === null ? "—" : value.toFixed(digits));

const HEADER = [
  "scenario",
  "messages/s",
  "p50 ms",
  "p99 ms",
  "peak RSS MB",
  "baseline msg/s",
  "ratio or KB/acct",
  "target",
  "result",
  "CPU ms/msg gateway / baseline",
  "others' CPU ms/msg (bench's own)",
  "gateway CPU ms/msg the target leaves",
];

function cells(row: Row): string[] {
  return [
    row.scenario,
    fixed(row.rate, 0),
    fixed(row.p50Ms, 1),
    fixed(row.p99Ms, 1),
    fixed(row.peakRssMb, 0),
    fixed(row.baselineRate, 0),
    fixed(row.value, 2),
    row.target,
    row.pass ? "pass" : "FAIL",
    row.cpuGatewayMs === null ? "—" : `${fixed(row.cpuGatewayMs, 2)} / ${fixed(row.cpuBaselineMs, 2)}`,
    row.cpuOthersMs === null ? "—" : `${fixed(row.cpuOthersMs, 2)} (${fixed(row.cpuBenchMs, 2)})`,
    fixed(row.cpuAllowedMs, 2),
  ];
}

export function markdownTable(rows: Row[]): string {
  const lines = [`| ${HEADER.join(" | ")} |`, `|${HEADER.map((_, index) => (index === 0 || index === 7 ? "---" : "---:")).join("|")}|`];
  for (const row of rows) lines.push(`| ${cells(row).join(" | ")} |`);
  return lines.join("\n");
}

export function terminalTable(rows: Row[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  return table
    .map((line) => line.map((cell, column) => (column === 0 || column === 7 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  "))
    .join("\n");
}

export function writeResults(dir: string, meta: Record<string, unknown>, outcomes: ScenarioOutcome[]): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const rows = outcomes.map(rowOf);
  const json = join(dir, "latest.json");
  const md = join(dir, "latest.md");
  writeFileSync(
    json,
    `${JSON.stringify({ ...meta, rows, runs: outcomes.map((outcome) => ({ scenario: outcome.scenario.id, errors: outcome.errors, runs: outcome.runs })) }, null, 2)}\n`,
  );
  const problems = rows.flatMap((row) => row.problems.map((problem) => `- ${row.scenario}: ${problem}`));
  const notes = [
    `Generated by \`npm run bench${meta.args ? ` -- ${String(meta.args)}` : ""}\` on ${String(meta.finishedAt)} (${String(meta.machine)}, 1-minute load average ${describeLoad(meta.loadAverage)}), code at ${describeCode(meta.code)}.`,
    "",
    `Medians of ${String(meta.runs)} runs of ${String(meta.count)} messages each; each baseline was measured in the same run. p50/p99 are per-message latencies (webhook response time for SMS webhook → XMPP; time since the drain began for e-mail → XMPP). Peak RSS is the gateway process's VmHWM. The CPU column is CPU time (user + system) per message of the gateway process and of the baseline's process(es), which others' work on the machine disturbs much less than rates. "Others' CPU" is what the rest of the machine (Prosody, Dovecot, the stand-ins, the bench's clients) spent per message while the gateway worked, from /proc/stat; in brackets, the part of it that was the bench's own process (its XMPP clients, stand-ins and load). The last column is the most CPU per message the gateway could spend and still meet its target on this machine: at the target it handles target × baseline msg/s, its JavaScript has one thread (1000 ms of CPU a second), and it shares the cores with the others, whose CPU per message stays the same; the lower of 1000 / (target × baseline msg/s) and cores × 1000 / (target × baseline msg/s) − others' CPU. It is an upper bound, since no run keeps every core busy.`,
    "",
    markdownTable(rows),
    "",
    ...(problems.length > 0 ? ["Problems:", "", ...problems, ""] : []),
  ];
  writeFileSync(md, `${notes.join("\n")}\n`);
  return { json, md };
}

function describeCode(code: unknown): string {
  const { commit, uncommitted } = (code ?? {}) as { commit?: string; uncommitted?: string[] };
  return `${commit ?? "?"}${uncommitted && uncommitted.length > 0 ? ` with uncommitted changes in ${uncommitted.length} files of src/ and transports/` : ""}`;
}

function describeLoad(load: unknown): string {
  const { atStart, atEnd } = (load ?? {}) as { atStart?: number; atEnd?: number };
  return `${atStart?.toFixed(1) ?? "?"} at the start, ${atEnd?.toFixed(1) ?? "?"} at the end`;
}
