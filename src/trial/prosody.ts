// A Prosody of our own in a folder: for `switchboard trial` and for the test harness.
// It listens on loopback only, keeps its data in the folder and stops with us.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { PortTakenError, freePort, startOnFreePorts, waitForPort } from "./ports.js";
import { stopProcess } from "./stop-process.js";
import { join } from "node:path";

export interface ProsodyOptions {
  dir: string;
  /** The users' domain (a VirtualHost). */
  domain: string;
  components: Array<{ domain: string; secret: string }>;
  c2sPort?: number;
  componentPort?: number;
  /** Extra Lua lines for the global section. */
  extraConfig?: string;
  /** Extra modules to load on the VirtualHost. */
  modules?: string[];
  /** Lines for the VirtualHost section. */
  hostConfig?: string;
  /** Modules to load on every component (mod_privilege must be loaded there too). */
  componentModules?: string[];
  /** Offer STARTTLS with this certificate and require it before logins (the trial); without it,
   *  plain connections and plain-text passwords are accepted (tests, on loopback). */
  tls?: { certificate: string; key: string };
  /** Run mod_http_file_share (XEP-0363) as this component, with Prosody's HTTP listener on a free
   *  loopback port (plain HTTP, no HTTPS port). */
  fileShare?: {
    domain: string;
    /** http_file_share_size_limit: the largest file, announced in disco#info. */
    sizeLimit?: number;
    /** http_file_share_allowed_file_types (none: every type). */
    allowedTypes?: string[];
    /** The base of the URLs in its slots (default: the listener itself). */
    externalUrl?: string;
  };
}

export class LocalProsody {
  c2sPort = 0;
  componentPort = 0;
  /** Prosody's HTTP listener, when the file share runs. */
  httpPort = 0;
  private child: ChildProcess | null = null;

  constructor(readonly options: ProsodyOptions) {}

  get configPath(): string {
    return join(this.options.dir, "prosody.cfg.lua");
  }

  get logPath(): string {
    return join(this.options.dir, "prosody.log");
  }

  /** Starts Prosody; on a first start the ports it was not given are picked free, and picked
   *  again if another program takes one first. A restart keeps its ports. */
  async start(): Promise<void> {
    if (this.c2sPort) return this.launch();
    await startOnFreePorts(
      async () => {
        this.c2sPort = this.options.c2sPort ?? (await freePort());
        this.componentPort = this.options.componentPort ?? (await freePort());
        if (this.options.fileShare) this.httpPort = await freePort();
        await this.launch();
      },
      // Ports the caller gave are not picked again; a retry needs at least one of its own.
      () => this.options.c2sPort === undefined || this.options.componentPort === undefined || Boolean(this.options.fileShare),
    );
  }

  private async launch(): Promise<void> {
    this.writeConfig();
    const logStart = existsSync(this.logPath) ? statSync(this.logPath).size : 0;
    const child = spawn("prosody", ["--config", this.configPath], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    this.child = child;
    const exited = new Promise<never>((_resolve, reject) =>
      child.once("exit", (code) => reject(new Error(`prosody exited (code ${code}) before it was ready: ${stderr.trim()} (see ${this.logPath})`))),
    );
    exited.catch(() => undefined);
    // Prosody keeps running when a port is taken, and then another program answers on it: its
    // log is the only place that tells.
    const services = ["c2s", "component", ...(this.options.fileShare ? ["http"] : [])];
    const log = await Promise.race([this.activated(logStart, services), exited]);
    const failed = /Failed to open server port (\d+) on [^,]*, ([^\n]*)/.exec(log);
    if (failed) {
      await this.stop();
      const [, port, reason] = failed;
      // Prosody words a taken port in four ways (portmanager.lua), by port number.
      if (/ in use|already (running|using)/.test(reason ?? ""))
        throw new PortTakenError(`prosody could not listen on 127.0.0.1:${port}: another program holds that port (see ${this.logPath})`);
      throw new Error(`prosody could not listen on 127.0.0.1:${port}: ${reason} (see ${this.logPath})`);
    }
    const ports = [this.c2sPort, this.componentPort, ...(this.options.fileShare ? [this.httpPort] : [])];
    await Promise.race([Promise.all(ports.map((port) => waitForPort(port))), exited]);
  }

  /** The log written since `offset`, once it says each of `services` was activated (on its port or on none). */
  private async activated(offset: number, services: string[], timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = existsSync(this.logPath) ? readFileSync(this.logPath).subarray(offset).toString() : "";
      if (services.every((service) => log.includes(`Activated service '${service}' on`))) return log;
      if (Date.now() > deadline) throw new Error(`prosody did not activate ${services.join(", ")} within ${timeoutMs} ms (see ${this.logPath})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    await stopProcess(child, 5_000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Adds an account by writing Prosody's own storage file (plain-text auth; test and trial use only). */
  addUser(username: string, password: string): void {
    const dir = join(this.options.dir, "data", encodePath(this.options.domain), "accounts");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${encodePath(username)}.dat`), `return {\n\t["password"] = ${luaString(password)};\n};\n`);
  }

  /** Deletes an account's storage file, as `prosodyctl deluser` does; Prosody reads it afresh. */
  removeUser(username: string): void {
    rmSync(join(this.options.dir, "data", encodePath(this.options.domain), "accounts", `${encodePath(username)}.dat`));
  }

  private writeConfig(): void {
    const { dir, domain, components, tls, fileShare } = this.options;
    mkdirSync(join(dir, "data"), { recursive: true });
    const modules = [
      "roster",
      "saslauth",
      "disco",
      "ping",
      "offline",
      "version",
      "time",
      "uptime",
      ...(this.options.tls ? ["tls"] : []),
      ...(this.options.modules ?? []),
    ];
    const lines = [
      "-- Written by Switchboard for a local trial or test run; loopback only.",
      "run_as_root = true",
      `pidfile = ${luaString(join(dir, "prosody.pid"))}`,
      `data_path = ${luaString(join(dir, "data"))}`,
      `log = { { levels = { min = "info" }, to = "file", filename = ${luaString(this.logPath)} } }`,
      `modules_enabled = { ${modules.map(luaString).join(", ")} }`,
      'modules_disabled = { "s2s" }',
      'interfaces = { "127.0.0.1" }',
      `c2s_ports = { ${this.c2sPort} }`,
      'component_interfaces = { "127.0.0.1" }',
      `component_ports = { ${this.componentPort} }`,
      ...(tls
        ? [
            `ssl = { certificate = ${luaString(tls.certificate)}, key = ${luaString(tls.key)} }`,
            "c2s_require_encryption = true",
            "allow_unencrypted_plain_auth = false",
            'authentication = "internal_plain"',
          ]
        : [
            "c2s_require_encryption = false",
            "allow_unencrypted_plain_auth = true",
            'authentication = "internal_plain"',
            // PLAIN logs in at once; SCRAM costs the test clients about a second per login.
            'disable_sasl_mechanisms = { "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "DIGEST-MD5" }',
          ]),
      'storage = "internal"',
      "statistics = nil",
      ...(fileShare
        ? [
            'http_interfaces = { "127.0.0.1" }',
            `http_ports = { ${this.httpPort} }`,
            "https_ports = { }",
            `http_external_url = ${luaString(fileShare.externalUrl ?? `http://127.0.0.1:${this.httpPort}/`)}`,
            // Requests name 127.0.0.1 as their Host: route them to the file share.
            `http_default_host = ${luaString(fileShare.domain)}`,
          ]
        : []),
      this.options.extraConfig ?? "",
      "",
      `VirtualHost ${luaString(domain)}`,
      this.options.hostConfig ?? "",
      "",
      ...components.flatMap((component) => [
        `Component ${luaString(component.domain)}`,
        `  component_secret = ${luaString(component.secret)}`,
        this.options.componentModules ? `  modules_enabled = { ${this.options.componentModules.map(luaString).join(", ")} }` : "",
        "",
      ]),
      ...(fileShare
        ? [
            `Component ${luaString(fileShare.domain)} "http_file_share"`,
            fileShare.sizeLimit !== undefined ? `  http_file_share_size_limit = ${fileShare.sizeLimit}` : "",
            fileShare.allowedTypes ? `  http_file_share_allowed_file_types = { ${fileShare.allowedTypes.map(luaString).join(", ")} }` : "",
            "",
          ]
        : []),
    ];
    writeFileSync(this.configPath, lines.join("\n"));
  }
}

// Prosody's storage escapes every character outside [a-zA-Z0-9] as %xx in file names.
function encodePath(text: string): string {
  return text.replace(/[^a-zA-Z0-9]/g, (char) => [...Buffer.from(char)].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join(""));
}

function luaString(text: string): string {
  return JSON.stringify(text).replace(/\\u([0-9a-f]{4})/gi, (_match, hex: string) => `\\u{${hex}}`);
}

export function prosodyInstalled(): boolean {
  return ["/usr/bin/prosody", "/usr/local/bin/prosody"].some((path) => existsSync(path));
}
