// The tables' common parts: medians over runs, figures as text, and a table for Markdown or the terminal.
import type { RunResult } from "./scenario.js";
import { median } from "./stats.js";

/** The median over runs of a figure, leaving out runs that lack it. */
export const med = (runs: RunResult[], pick: (run: RunResult) => number | undefined): number | null => {
  const values = runs.map(pick).filter((value): value is number => typeof value === "number" && Number.isFinite(value));
  return values.length > 0 ? median(values) : null;
};

export const fixed = (value: number | null, digits: number): string => (value === null ? "—" : value.toFixed(digits));

export function markdownOf(header: string[], lines: string[][], textColumns: number[]): string {
  const head = [`| ${header.join(" | ")} |`, `|${header.map((_, index) => (textColumns.includes(index) ? "---" : "---:")).join("|")}|`];
  return [...head, ...lines.map((line) => `| ${line.join(" | ")} |`)].join("\n");
}

export function terminalOf(header: string[], lines: string[][], textColumns: number[]): string {
  const table = [header, ...lines];
  const widths = header.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  return table
    .map((line) => line.map((cell, column) => (textColumns.includes(column) ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  "))
    .join("\n");
}
