// What a gateway's heap holds: reads a .heapsnapshot (taken with
// `--gateway-node-flag=--heapsnapshot-signal=SIGUSR2`, see docs/performance.md) and prints the
// self size and count of objects by constructor, largest first.
//   node dist/bench/heap-summary.js FILE [TOP]
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const [file, topText] = process.argv.slice(2);
if (!file) {
  console.error("usage: node dist/bench/heap-summary.js FILE [TOP]");
  process.exit(64);
}
const data = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
const fields = data.snapshot.meta.node_fields;
const types = data.snapshot.meta.node_types[0];
const width = fields.length;
const [typeAt, nameAt, sizeAt] = [fields.indexOf("type"), fields.indexOf("name"), fields.indexOf("self_size")];
const groups = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let offset = 0; offset < data.nodes.length; offset += width) {
  const type = types[data.nodes[offset + typeAt]!] ?? "?";
  const bytes = data.nodes[offset + sizeAt]!;
  total += bytes;
  // Objects group by constructor; strings, code and arrays by their kind.
  const key = type === "object" || type === "closure" ? `${type} ${data.strings[data.nodes[offset + nameAt]!] ?? "?"}` : `(${type})`;
  const group = groups.get(key) ?? { count: 0, bytes: 0 };
  group.count += 1;
  group.bytes += bytes;
  groups.set(key, group);
}
console.log(`${file}: ${(total / 1048576).toFixed(1)} MB in ${data.nodes.length / width} objects`);
for (const [key, group] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(topText ?? 30))) {
  console.log(`${(group.bytes / 1024).toFixed(0).padStart(9)} KB ${String(group.count).padStart(8)}×  ${key}`);
}
