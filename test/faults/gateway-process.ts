// The gateway as its own process, started from a config file like an operator would, so that
// fault tests can kill -9 it and start it again on the same store.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stopProcess } from "../../src/trial/stop-process.js";

const CLI = new URL("../../src/cli.js", import.meta.url).pathname;

export class GatewayProcess {
  private child: ChildProcess | null = null;
  starts = 0;

  constructor(
    readonly dir: string,
    readonly config: Record<string, unknown>,
    readonly httpPort: number,
  ) {}

  /** The process is alive (it has not crashed or been killed). */
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get configPath(): string {
    return join(this.dir, "switchboard.yaml");
  }

  /** Starts the process and waits until it is ready, or with `standby`, until it answers at all
   *  (an instance standing by for another's domains is alive but not ready). */
  async start(options: { standby?: boolean } = {}): Promise<void> {
    // JSON is YAML: the config file is written as JSON.
    writeFileSync(this.configPath, JSON.stringify(this.config, null, 2));
    this.starts += 1;
    const log = openSync(join(this.dir, `gateway-${this.starts}.log`), "w");
    this.child = spawn("node", [CLI, "--config", this.configPath], { stdio: ["ignore", log, log] });
    await this.waitReady(30_000, options.standby ? "/healthz" : "/readyz");
  }

  /** Waits until every component link is online. */
  async waitReady(timeoutMs = 30_000, path = "/readyz"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) throw new Error(`the gateway exited with ${this.child.exitCode}; see ${this.dir}/gateway-${this.starts}.log`);
      const ready = await fetch(`http://127.0.0.1:${this.httpPort}${path}`).then((response) => response.ok, () => false);
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`the gateway was not ready within ${timeoutMs} ms; see ${this.dir}/gateway-${this.starts}.log`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** kill -9: no chance to finish anything. */
  async kill9(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    await stopProcess(child, 15_000);
  }
}
