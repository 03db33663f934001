// How much CPU per message the gateway may spend at its target on this machine, beside what it
// spends. At the target it handles target × baseline messages a second. Two bounds hold then:
// - its JavaScript runs on one thread, which has 1000 ms of CPU a second;
// - the whole machine has cores × 1000 ms a second, shared with the others (Prosody, Dovecot,
//   the stand-ins, the bench's clients), whose CPU per message stays what it was in the run.
// Both are upper bounds: no run keeps a thread or every core busy all the time.
import type { ScenarioOutcome } from "./report.js";
import { fixed, markdownOf, med, terminalOf } from "./table.js";

export interface BudgetRow {
  scenario: string;
  /** Messages a second the target asks for: target × the baseline's rate. */
  targetRate: number;
  gatewayMs: number | null;
  mainThreadMs: number | null;
  othersMs: number | null;
  benchMs: number | null;
  busyShare: number | null;
  /** The most the gateway's main thread may spend per message at the target. */
  mainThreadBudgetMs: number;
  /** The most the gateway's process may spend per message at the target, the others' share aside. */
  machineBudgetMs: number | null;
}

const figure = (outcome: ScenarioOutcome, name: string): number | null => med(outcome.runs, (run) => run.details[name] as number | undefined);

/** The budget of a throughput scenario whose runs measured the machine; undefined otherwise. */
export function budgetRowOf(outcome: ScenarioOutcome): BudgetRow | undefined {
  const { scenario, runs } = outcome;
  const baselineRate = med(runs, (run) => run.baselineRate);
  const cores = figure(outcome, "cores");
  if (scenario.target.kind !== "min-ratio" || baselineRate === null || cores === null) return undefined;
  const targetRate = scenario.target.value * baselineRate;
  const othersMs = figure(outcome, "othersCpuMsPerMessage");
  return {
    scenario: scenario.title,
    targetRate,
    gatewayMs: figure(outcome, "gatewayCpuMsPerMessage"),
    mainThreadMs: figure(outcome, "gatewayMainThreadMsPerMessage"),
    othersMs,
    benchMs: figure(outcome, "benchCpuMsPerMessage"),
    busyShare: figure(outcome, "machineBusyShare"),
    mainThreadBudgetMs: 1000 / targetRate,
    machineBudgetMs: othersMs === null ? null : (cores * 1000) / targetRate - othersMs,
  };
}

const NOTE =
  "CPU at the target: what the gateway spends per message (its process, and its main thread, where all its JavaScript runs), what the rest of the machine spent per message while the gateway worked (from /proc/stat: Prosody, Dovecot, the stand-ins and the bench's clients; in brackets, the bench's own process), and how busy the machine's cores were. The last column is the most the gateway may spend per message and still meet its target here: its main thread has 1000 ms of CPU a second, so at most 1000 / target msg/s; the machine has cores × 1000 ms a second, of which the others take their share, so the process at most cores × 1000 / target msg/s − others' CPU. Both are upper bounds. A figure below the baseline's own CPU per message means no gateway doing the baseline's work could meet the target on this machine.";

const HEADER = [
  "scenario",
  "target msg/s",
  "gateway CPU ms/msg: process / main thread",
  "others' CPU ms/msg (bench's own)",
  "machine busy",
  "target leaves the gateway: main thread / process",
];

function cells(row: BudgetRow): string[] {
  return [
    row.scenario,
    fixed(row.targetRate, 0),
    `${fixed(row.gatewayMs, 2)} / ${fixed(row.mainThreadMs, 2)}`,
    `${fixed(row.othersMs, 2)} (${fixed(row.benchMs, 2)})`,
    row.busyShare === null ? "—" : `${Math.round(row.busyShare * 100)} %`,
    `${fixed(row.mainThreadBudgetMs, 2)} / ${fixed(row.machineBudgetMs, 2)}`,
  ];
}

const present = (rows: Array<BudgetRow | undefined>): BudgetRow[] => rows.filter((row): row is BudgetRow => row !== undefined);

/** The Markdown section: its note and table, or nothing when no scenario measured the machine. */
export function budgetMarkdown(rows: Array<BudgetRow | undefined>): string[] {
  const shown = present(rows);
  return shown.length > 0 ? [NOTE, "", markdownOf(HEADER, shown.map(cells), [0]), ""] : [];
}

/** The terminal's table, or "" when no scenario measured the machine. */
export function budgetTerminal(rows: Array<BudgetRow | undefined>): string {
  const shown = present(rows);
  return shown.length > 0 ? terminalOf(HEADER, shown.map(cells), [0]) : "";
}
