// Counts what a fault scenario sent and what arrived, and keeps the row for docs/reliability.md.
import { appendFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STORE_KIND } from "../support/postgres.js";

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
  /** The first few keys that never arrived, and that arrived more than once, to look for in the logs. */
  missing?: string[];
  twice?: string[];
  /** The store the gateway ran on. */
  store?: "sqlite" | "postgresql";
}

export const RESULTS = join(tmpdir(), "switchboard-faults", "results.jsonl");
/** One line per pass of the suite (test/faults/run.ts): its store, files, duration and status. */
export const PASSES = join(tmpdir(), "switchboard-faults", "passes.jsonl");

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
  const missing = lost > 0 ? [...wanted].filter((key) => !seen.has(key)).slice(0, 20) : undefined;
  const twice =
    doubled > 0
      ? [...seen]
          .filter(([, count]) => count > 1)
          .map(([key]) => key)
          .slice(0, 20)
      : undefined;
  return {
    scenario,
    sent: wanted.size,
    delivered,
    lost,
    doubled,
    ...extra,
    ...(missing && { missing }),
    ...(twice && { twice }),
    result: lost === 0 && visible === 0 ? "pass" : "fail",
  };
}

const failed: Tally[] = [];

/** How many rows this test process recorded as failed. */
export const failedRows = (): number => failed.length;

/** The keys listed as missing by the failed rows recorded after the first `since`. */
export const missingSince = (since: number): string[] => failed.slice(since).flatMap((row) => row.missing ?? []);

/** Keeps `row` for docs/reliability.md, under the store this test process runs on. */
export function record(row: Tally): void {
  if (row.result === "fail") failed.push(row);
  mkdirSync(join(tmpdir(), "switchboard-faults"), { recursive: true });
  appendFileSync(RESULTS, `${JSON.stringify({ store: STORE_KIND, ...row, at: new Date().toISOString() })}\n`);
}
