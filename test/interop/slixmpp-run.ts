// Runs the slixmpp client script and collects the JSON lines it prints.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

// The script sits next to this file's source: dist/test/interop -> test/interop.
const SCRIPT = fileURLToPath(new URL("../../../test/interop/slixmpp-client.py", import.meta.url));

export interface SlixmppRun {
  steps: Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; stderr: string }>;
}

export function runSlixmpp(args: {
  jid: string;
  password: string;
  port: number;
  gateway: string;
  contact: string;
  fields: Record<string, string>;
}): SlixmppRun {
  const child = spawn("/usr/bin/python3", [SCRIPT, args.jid, args.password, String(args.port), args.gateway, args.contact, JSON.stringify(args.fields)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const steps: Array<Record<string, unknown>> = [];
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) steps.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { steps, exited: new Promise((resolve) => child.once("exit", (code) => resolve({ code, stderr }))) };
}
