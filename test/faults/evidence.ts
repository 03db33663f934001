// When a scenario lost or doubled something, what the gateways and Prosody said about it. CI keeps
// a run's output, not its folders: without this a rare loss leaves nothing to study.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { countRowsHolding } from "../support/postgres.js";

const LINES_PER_LOG = 30;
const LINE_CHARS = 400;

/** Warnings and errors of every gateway log and Prosody log under `dir`, the last of each file. */
export function printEvidence(dir: string): void {
  for (const file of logsUnder(dir)) {
    const lines = readFileSync(file, "utf8")
      .split("\n")
      .filter(file.endsWith("prosody.log") ? prosodyNotable : gatewayNotable);
    if (lines.length === 0) continue;
    console.log(`evidence: ${lines.length} notable lines in ${file}, the last ${Math.min(lines.length, LINES_PER_LOG)}:`);
    for (const line of lines.slice(-LINES_PER_LOG)) console.log(`  ${line.slice(0, LINE_CHARS)}`);
  }
}

/**
 * Where each lost message (by its text) still is: waiting in the gateway's ledger, recorded there
 * as delivered (the seen row of a text keeps its start, for reactions that quote it), in Prosody's
 * storage (offline messages), or nowhere, which puts the loss after Prosody took it.
 */
export async function printWhereLost(dir: string, storeUri: string, keys: string[]): Promise<void> {
  const prosodyFiles = readdirSync(join(dir, "prosody", "data"), { recursive: true, encoding: "utf8" }).map((path) => join(dir, "prosody", "data", path));
  const prosodyText = prosodyFiles.map((file) => readTextOrNothing(file)).join("\n");
  for (const key of keys) {
    const count = (table: "inbox" | "outbox" | "seen", column: "stored" | "entry" | "value"): Promise<number> =>
      countRowsHolding(storeUri, table, column, key).catch(() => -1);
    const places = {
      inbox: await count("inbox", "stored"),
      outbox: await count("outbox", "entry"),
      seen: await count("seen", "value"),
      prosodyStorage: prosodyText.split(key).length - 1,
    };
    console.log(`evidence: lost ${JSON.stringify(key)} is in: ${JSON.stringify(places)} (-1: could not look)`);
  }
}

function readTextOrNothing(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return ""; // a folder, or gone meanwhile
  }
}

function logsUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((path) => /(^|\/)(gateway-\d+\.log|prosody\.log)$/.test(path))
    .map((path) => join(dir, path));
}

/** pino lines at warn or above, and the bounces the gateway logs at info. */
function gatewayNotable(line: string): boolean {
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string };
    return (entry.level ?? 0) >= 40 || /bounced|set aside/.test(entry.msg ?? "");
  } catch {
    return line.trim().length > 0; // not JSON: a crash's stack trace
  }
}

function prosodyNotable(line: string): boolean {
  return /\s(warn|error)\s/.test(line);
}
