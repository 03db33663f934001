// Counts what a fault scenario sent and what arrived, and keeps the row for docs/reliability.md.
import { appendFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tally {
  scenario: string;
  sent: number;
  delivered: number;
  lost: number;
  /** Arrivals beyond the first of the same message. */
  doubled: number;
  /** Of those, copies that carried the same stanza id (a client that de-duplicates by id shows one). */
  doubledSameId?: number;
  result: "pass" | "fail";
  note?: string;
}

export const RESULTS = join(tmpdir(), "switchboard-faults", "results.jsonl");

/** `expected`: the unique keys sent; `arrived`: the key of every arrival, duplicates included. */
export function tally(scenario: string, expected: string[], arrived: string[], extra: { doubledSameId?: number; note?: string } = {}): Tally {
  const wanted = new Set(expected);
  const seen = new Map<string, number>();
  for (const key of arrived) if (wanted.has(key)) seen.set(key, (seen.get(key) ?? 0) + 1);
  const delivered = seen.size;
  const doubled = [...seen.values()].reduce((sum, count) => sum + count - 1, 0);
  const lost = wanted.size - delivered;
  // Copies with the same id are what an at-least-once hand-over can leave after a crash; clients
  // (XEP-0359) and mail systems (Message-ID) show them once. Anything else doubled is a failure.
  const visible = doubled - (extra.doubledSameId ?? 0);
  return { scenario, sent: wanted.size, delivered, lost, doubled, ...extra, result: lost === 0 && visible === 0 ? "pass" : "fail" };
}

export function record(row: Tally): void {
  mkdirSync(join(tmpdir(), "switchboard-faults"), { recursive: true });
  appendFileSync(RESULTS, `${JSON.stringify({ ...row, at: new Date().toISOString() })}\n`);
}

