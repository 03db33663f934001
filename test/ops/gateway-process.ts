// Switchboard as operators run it: `switchboard --config FILE` in its own process, against a
// Prosody of its own, with the test transport loaded by module path. Its JSON log lines are kept.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalProsody } from "../../src/trial/prosody.js";
import { PortTakenError, freePort, startOnFreePorts } from "../../src/trial/ports.js";
import { DOMAIN, GATEWAY, PASSWORD, SECRET } from "../support/harness.js";
import { TestClient } from "../support/xmpp-client.js";

const CLI = fileURLToPath(new URL("../../src/cli.js", import.meta.url));
const MODULE = fileURLToPath(new URL("./module-transport.js", import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface GatewayProcess {
  dir: string;
  configPath: string;
  httpPort: number;
  child: ChildProcess;
  lines: LogLine[];
  /** The config file's text for these settings (YAML blocks appended under the defaults). */
  configText(extra?: { log?: string; limits?: string; access?: string; transport?: string; xmppPort?: number }): string;
  /** The first log line (already written or still to come) that matches. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  login(username: string): Promise<TestClient>;
  stop(): Promise<void>;
}

type GatewayProcessOptions = { users: string[]; log?: string; limits?: string; access?: string };

/** Another test process may take the HTTP port picked for the gateway before the gateway binds
 *  it: then all of it is started again on a new port. */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  let started: GatewayProcess | undefined;
  await startOnFreePorts(async () => {
    started = await launchGatewayProcess(options);
  });
  return started!;
}

async function launchGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-ops-"));
  const prosody = new LocalProsody({ dir: join(dir, "prosody"), domain: DOMAIN, components: [{ domain: GATEWAY, secret: SECRET }] });
  for (const user of options.users) prosody.addUser(user, PASSWORD);
  await prosody.start();
  const httpPort = await freePort();
  const configPath = join(dir, "switchboard.yaml");
  const clients: TestClient[] = [];
  const lines: LogLine[] = [];
  const waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];

  const configText: GatewayProcess["configText"] = (extra = {}) =>
    [
      "xmpp:",
      "  host: 127.0.0.1",
      `  port: ${extra.xmppPort ?? prosody.componentPort}`,
      `  serverDomain: ${DOMAIN}`,
      "  reconnectMinSeconds: 0.1",
      "  reconnectMaxSeconds: 1",
      "store:",
      `  uri: sqlite://${join(dir, "store.sqlite")}`,
      "  secretKey: test-secret-key-0123456789",
      "http:",
      "  host: 127.0.0.1",
      `  port: ${httpPort}`,
      "media:",
      `  dir: ${join(dir, "media")}`,
      "log:",
      `  level: ${extra.log ?? options.log ?? "info"}`,
      ...((extra.limits ?? options.limits) ? ["limits:", extra.limits ?? options.limits!] : []),
      ...((extra.access ?? options.access) ? ["access:", extra.access ?? options.access!] : []),
      "transports:",
      "  test:",
      `    domain: ${GATEWAY}`,
      `    secret: ${SECRET}`,
      `    module: ${MODULE}`,
      ...(extra.transport ? [extra.transport] : []),
      "",
    ].join("\n");
  writeFileSync(configPath, configText());

  const child = spawn(process.execPath, [CLI, "--config", configPath], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let buffered = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split("\n");
    buffered = complete.pop()!;
    for (const text of complete) {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      lines.push(line);
      const waiter = waiters.find((candidate) => candidate.match(line));
      if (waiter) waiters.splice(waiters.indexOf(waiter), 1);
      waiter?.resolve(line);
    }
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const gateway: GatewayProcess = {
    dir,
    configPath,
    httpPort,
    child,
    lines,
    configText,
    waitForLine(match, timeoutMs = 10_000) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no such log line within ${timeoutMs} ms; stderr: ${stderr}\nlog:\n${lines.map((line) => JSON.stringify(line)).join("\n")}`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
    async login(username) {
      const client = await TestClient.login(prosody.c2sPort, DOMAIN, username, PASSWORD);
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.allSettled(clients.map((client) => client.stop()));
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      await prosody.stop();
      if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const online = gateway.waitForLine((line) => line.msg === "component link online" || line.msg === "switchboard started", 20_000);
    // "close" rather than "exit": by then its last log lines are read.
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const exitedFirst = closed.then(() => {
      const taken = lines.some((line) => (line.err as { code?: string } | undefined)?.code === "EADDRINUSE");
      if (taken) throw new PortTakenError(`the gateway could not listen on 127.0.0.1:${httpPort}: another program holds that port`);
      throw new Error(`the gateway exited before it was ready; stderr: ${stderr}\nlog:\n${lines.map((line) => JSON.stringify(line)).join("\n")}`);
    });
    // Whichever loses the race settles later, unheard.
    online.catch(() => undefined);
    exitedFirst.catch(() => undefined);
    await Promise.race([online, exitedFirst]);
    // Ready means every component link is online.
    for (let tries = 0; tries < 100; tries += 1) {
      const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return gateway;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the gateway did not come online; stderr: ${stderr}`);
  } catch (error) {
    await gateway.stop();
    throw error;
  }
}
