// Runs a slixmpp script of test/interop and collects the JSON lines it prints, one a step.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface SlixmppRun {
  steps: Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; stderr: string }>;
}

/** Runs test/interop/`script` with these arguments. */
export function runSlixmppScript(script: string, args: string[]): SlixmppRun {
  // The scripts sit next to this file's source: dist/test/interop -> test/interop.
  const path = fileURLToPath(new URL(`../../../test/interop/${script}`, import.meta.url));
  const child = spawn("/usr/bin/python3", [path, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const steps: Array<Record<string, unknown>> = [];
  let stderr = "";
  let partial = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    // slixmpp 1.8 prints a debugging line of its own while joining a room: only JSON lines count.
    for (const line of lines) if (line.startsWith("{")) steps.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { steps, exited: new Promise((resolve) => child.once("close", (code) => resolve({ code, stderr }))) };
}

/** Waits for the script to end, fails unless it exited with 0, and finds its steps by name. */
export async function stepsOf(run: SlixmppRun): Promise<(name: string) => Record<string, unknown>> {
  const { code, stderr } = await run.exited;
  assert.equal(code, 0, `${stderr}\n${JSON.stringify(run.steps)}`);
  return (name) => run.steps.find((candidate) => candidate.step === name) ?? assert.fail(`no ${name} step: ${stderr}`);
}

/** The client script: discovers the gateway, registers, writes to `contact` and waits for the answer. */
export function runSlixmpp(args: {
  jid: string;
  password: string;
  port: number;
  gateway: string;
  contact: string;
  fields: Record<string, string>;
}): SlixmppRun {
  return runSlixmppScript("slixmpp-client.py", [args.jid, args.password, String(args.port), args.gateway, args.contact, JSON.stringify(args.fields)]);
}
