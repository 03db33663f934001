// The gateway as its own process, started from a config file like an operator would, so that
// fault tests can kill -9 it and start it again on the same store. With `supervise` the harness
// also plays the service manager: a process that exits on its own is started again after a pause,
// as systemd's Restart=on-failure does (config/switchboard.service).
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stopProcess } from "../../src/trial/stop-process.js";

const CLI = new URL("../../src/cli.js", import.meta.url).pathname;

export class GatewayProcess {
  private child: ChildProcess | null = null;
  private restartSec: number | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  starts = 0;
  /** Exits the process made on its own (not kill -9 or stop by the test), with their codes. */
  readonly exits: Array<{ at: number; code: number | null }> = [];

  constructor(
    readonly dir: string,
    readonly config: Record<string, unknown>,
    readonly httpPort: number,
    /** The config file as written by hand (YAML); without it `config` is written as JSON. */
    readonly configText?: string,
    readonly env: Record<string, string> = {},
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
    this.spawn();
    await this.waitReady(30_000, options.standby ? "/healthz" : "/readyz");
  }

  /** From now on, when the process exits on its own it is started again `restartSec` later. */
  supervise(restartSec: number): void {
    this.restartSec = restartSec;
  }

  private spawn(): void {
    // JSON is YAML: the config file is written as JSON unless the test wrote it by hand.
    writeFileSync(this.configPath, this.configText ?? JSON.stringify(this.config, null, 2));
    this.starts += 1;
    const log = openSync(join(this.dir, `gateway-${this.starts}.log`), "w");
    const child = spawn("node", [CLI, "--config", this.configPath], { stdio: ["ignore", log, log], env: { ...process.env, ...this.env } });
    this.child = child;
    child.once("exit", (code) => {
      if (this.child !== child) return; // killed or stopped by the test
      this.exits.push({ at: Date.now(), code });
      if (this.restartSec === undefined) return;
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (this.child === child) this.spawn();
      }, this.restartSec * 1000);
    });
  }

  /** Is the process alive and, with `/readyz`, holding its domains? */
  async answers(path = "/readyz"): Promise<boolean> {
    return fetch(`http://127.0.0.1:${this.httpPort}${path}`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
  }

  /** Waits until every component link is online. */
  async waitReady(timeoutMs = 30_000, path = "/readyz"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.restartSec === undefined && this.child?.exitCode !== null && this.child?.exitCode !== undefined) {
        throw new Error(`the gateway exited with ${this.child.exitCode}; see ${this.dir}/gateway-${this.starts}.log`);
      }
      if (await this.answers(path)) return;
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
    this.restartSec = undefined;
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = null;
    await stopProcess(child, 15_000);
  }
}
