// The gateway under test as its own process (`node …/src/cli.js --config FILE`), so that its
// memory is measured apart from the load generators and it has a core to itself like in production.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { track } from "./cleanup.js";
import { cpuMsOf, memoryOf, type Memory } from "./memory.js";

export interface GatewayProcessOptions {
  /** The compiled tree to run (a snapshot, so a rebuild by someone else cannot pull it away). */
  distDir: string;
  dir: string;
  config: Record<string, unknown>;
  httpPort: number;
  /** Extra node flags (--cpu-prof …) for profiling. */
  nodeFlags?: string[];
}

export class GatewayProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(readonly options: GatewayProcessOptions) {}

  get pid(): number {
    if (!this.child?.pid) throw new Error("the gateway is not running");
    return this.child.pid;
  }

  get logPath(): string {
    return join(this.options.dir, "gateway.log");
  }

  /** Starts it and waits (bounded) until /readyz says every component link is online. */
  async start(timeoutMs = 30_000): Promise<void> {
    const configPath = join(this.options.dir, "switchboard.yaml");
    // JSON is YAML, and the gateway reads it through its real config loader.
    writeFileSync(configPath, JSON.stringify(this.options.config, null, 2));
    // Logs go to a file, not a pipe: the bench process must not spend CPU reading them.
    const log = openSync(this.logPath, "a");
    const child = spawn(process.execPath, [...(this.options.nodeFlags ?? []), join(this.options.distDir, "src", "cli.js"), "--config", configPath], {
      stdio: ["ignore", log, log],
      cwd: this.options.dir,
    });
    closeSync(log);
    track(child);
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the gateway exited with code ${child.exitCode}; see ${this.logPath}`);
      const ready = await fetch(`http://127.0.0.1:${this.options.httpPort}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`the gateway was not ready within ${timeoutMs} ms; see ${this.logPath}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  memory(): Memory {
    return memoryOf(this.pid);
  }

  cpuMs(): number {
    return cpuMsOf(this.pid);
  }

  /** A Prometheus sample's value from /metrics (summed over label sets matching `labels`). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.options.httpPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    let total = 0;
    for (const line of text.split("\n")) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return total;
  }

  /** Freezes or thaws the process (SIGSTOP / SIGCONT). */
  pause(paused: boolean): void {
    this.child?.kill(paused ? "SIGSTOP" : "SIGCONT");
  }

  signal(name: NodeJS.Signals): void {
    this.child?.kill(name);
  }

  /** SIGTERM (a graceful stop, as an operator's), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGCONT");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
