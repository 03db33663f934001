// Where a gateway's CPU time went: reads .cpuprofile files written with
// `npm run bench -- --gateway-node-flag=--cpu-prof --gateway-node-flag=--cpu-prof-dir=DIR` and prints
// self time by package or project folder, and the busiest functions; with --callers PATTERN, also
// the call paths that lead to the functions whose name matches PATTERN (e.g. "^exec$": which of
// the store's statements run by exec(), COMMIT among them, take the time).
//   node dist/bench/profile-summary.js [--callers PATTERN] DIR_OR_FILE…
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** node_modules/<package> (or @scope/name), a project folder (src/gateway, transports/sms…), or a node: built-in. */
function placeOf(url: string, name: string): string {
  if (!url) return name === "(garbage collector)" || name === "(idle)" || name === "(program)" ? name : "(native)";
  if (url.startsWith("node:")) return "node: built-ins";
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (module) return module[1]!;
  const project = /\/(src|transports|bench|test)\/([^/]+)\//.exec(url);
  return project ? `${project[1]}/${project[2]}` : url.replace(/^file:\/\//, "");
}

/** A function as the tables name it: its name and where it is, without the install's own path. */
function labelOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || "(anonymous)"} ${url ? `${url.replace(/^.*\/(node_modules|dist|\.bench-dist\/\d+)\//, "")}:${lineNumber + 1}` : ""}`.trim();
}

/** Samples further apart than this are the process being frozen (SIGSTOP in the e-mail → XMPP
 *  scenario), not time spent where the next sample happens to land; samples come every ~1 ms. */
const FROZEN_MICROS = 100_000;

function readProfile(file: string): { profile: Profile; byId: Map<number, ProfileNode> } {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  return { profile, byId: new Map(profile.nodes.map((node) => [node.id, node])) };
}

function summarize(file: string): void {
  const { profile, byId } = readProfile(file);
  const selfByPlace = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  let total = 0;
  let paused = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    if (micros > FROZEN_MICROS) {
      paused += micros;
      return;
    }
    total += micros;
    const place = placeOf(node.callFrame.url, node.callFrame.functionName);
    selfByPlace.set(place, (selfByPlace.get(place) ?? 0) + micros);
    const label = labelOf(node);
    selfByFunction.set(label, (selfByFunction.get(label) ?? 0) + micros);
  });
  const idle = selfByPlace.get("(idle)") ?? 0;
  const busy = total - idle;
  const top = (map: Map<string, number>, count: number): string[] =>
    [...map]
      .filter(([key]) => key !== "(idle)")
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([key, micros]) => `  ${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}`);
  console.log(
    `${file}\n  wall ${((total + paused) / 1e6).toFixed(1)} s (${(paused / 1e6).toFixed(1)} s frozen, left out), sampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((100 * busy) / total).toFixed(0)}%)`,
  );
  console.log("  busy time by place (self):");
  console.log(top(selfByPlace, 15).join("\n"));
  console.log("  busiest functions (self):");
  console.log(top(selfByFunction, 20).join("\n"));
}

/** Frames above a matched function shown per call path: enough to get from a system call up
 *  through Node's stream layers to the library or project code that made it. */
const CALLER_DEPTH = 8;

/** Time spent in (and under) functions named like `pattern`, by the call paths above them. */
function callers(file: string, pattern: RegExp): void {
  const { profile, byId } = readProfile(file);
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const byPath = new Map<string, number>();
  let matched = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    if (micros > FROZEN_MICROS) return;
    const stack: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) stack.push(byId.get(at)!);
    const hit = stack.findIndex((node) => pattern.test(node.callFrame.functionName));
    if (hit < 0) return;
    matched += micros;
    const path = stack
      .slice(hit, hit + 1 + CALLER_DEPTH)
      .map(labelOf)
      .join(" < ");
    byPath.set(path, (byPath.get(path) ?? 0) + micros);
  });
  console.log(`  in functions matching ${pattern}: ${(matched / 1000).toFixed(0)} ms, by caller:`);
  for (const [path, micros] of [...byPath].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    console.log(`  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${path}`);
  }
}

const args = process.argv.slice(2);
const callersAt = args.indexOf("--callers");
const callerPattern = callersAt >= 0 ? new RegExp(args.splice(callersAt, 2)[1] ?? "") : undefined;
const files = args.flatMap((path) =>
  statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((name) => name.endsWith(".cpuprofile"))
        .map((name) => join(path, name))
    : [path],
);
if (files.length === 0) {
  console.error("usage: node dist/bench/profile-summary.js [--callers PATTERN] DIR_OR_FILE…");
  process.exit(64);
}
for (const file of files) {
  summarize(file);
  if (callerPattern) callers(file, callerPattern);
}
