// Runs a baseline in its own process (as the gateway runs in its own), passing its input as JSON
// and reading one JSON line of result; bounded in time.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { track } from "./cleanup.js";

export interface ChildRun<T> {
  /** Resolves with the child's result line. */
  result: Promise<T>;
  /** Resolves once the child printed {"ready":…} (it is listening / connected). */
  ready: Promise<Record<string, unknown>>;
  pid: number;
  stop(): void;
}

export function runChild<T>(distDir: string, name: string, input: unknown, timeoutMs: number): ChildRun<T> {
  const child = spawn(process.execPath, [join(distDir, "bench", "baselines", `${name}.js`), JSON.stringify(input)], { stdio: ["ignore", "pipe", "pipe"] });
  track(child);
  let stderr = "";
  let buffered = "";
  let lastLine = "";
  let onReady: (value: Record<string, unknown>) => void = () => undefined;
  const ready = new Promise<Record<string, unknown>>((resolve) => (onReady = resolve));
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line) continue;
      lastLine = line;
      if (line.startsWith('{"ready"')) onReady(JSON.parse(line) as Record<string, unknown>);
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const result = new Promise<T>((resolve, reject) => {
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && lastLine) return resolve(JSON.parse(lastLine) as T);
      reject(new Error(`baseline ${name} ended with ${signal ?? code}: ${stderr.trim() || lastLine}`));
    });
  });
  result.catch(() => undefined);
  void result.catch((error: unknown) => onReady({ failed: String(error) }));
  return { result, ready, pid: child.pid ?? 0, stop: () => child.kill("SIGTERM") };
}
