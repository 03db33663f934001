// A real ejabberd 23 (Debian's package) in a temporary folder, as a second server for the
// end-to-end tests: same shape as LocalProsody. It runs as the ejabberd user, so its folder is
// handed to that user.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chownSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { PortTakenError, freePort, startOnFreePorts, waitForPort } from "../../src/trial/ports.js";

const run = promisify(execFile);

export interface EjabberdOptions {
  dir: string;
  domain: string;
  components: Array<{ domain: string; secret: string }>;
  /** Grant the components XEP-0356 roster privilege. */
  privileged?: boolean;
}

export class LocalEjabberd {
  c2sPort = 0;
  componentPort = 0;
  readonly node = `sb${process.pid}x${Math.random().toString(36).slice(2, 8)}@localhost`;
  private child: ChildProcess | null = null;
  private readonly users: Array<[string, string]> = [];

  constructor(readonly options: EjabberdOptions) {}

  get logPath(): string {
    return join(this.options.dir, "logs", "ejabberd.log");
  }

  /** Before start the account is made at start; on a running server at once. */
  addUser(username: string, password: string): void | Promise<void> {
    if (this.child) return this.register(username, password);
    this.users.push([username, password]);
  }

  /** Starts ejabberd; a first start picks free ports, again if another program takes one first.
   *  A restart keeps its ports. */
  async start(): Promise<void> {
    if (this.c2sPort) return this.launch();
    await startOnFreePorts(async () => {
      this.c2sPort = await freePort();
      this.componentPort = await freePort();
      await this.launch();
    });
  }

  private async launch(): Promise<void> {
    const { dir } = this.options;
    for (const sub of ["logs", "spool"]) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, "ejabberd.yml"), this.config());
    // Debian's /etc/ejabberd/ejabberdctl.cfg would point back at the system config.
    writeFileSync(join(dir, "ejabberdctl.cfg"), 'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\n');
    writeFileSync(join(dir, "inetrc"), '{lookup, [file, native]}.\n{host, {127,0,0,1}, ["localhost"]}.\n');
    handOver(dir);
    const child = spawn("ejabberdctl", this.args("foreground"), { ...asEjabberd(), stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    this.child = child;
    const exited = new Promise<never>((_resolve, reject) =>
      child.once("exit", (code) => {
        if (this.child === child) this.child = null;
        // Its own report runs to pages of Erlang terms; the port and the reason are what count.
        const taken = /failed_to_start_child,\s*\{(\d+),\s*\{127,0,0,1\},\s*tcp\},\s*eaddrinuse/.exec(output);
        if (taken) reject(new PortTakenError(`ejabberd could not listen on 127.0.0.1:${taken[1]}: another program holds that port`));
        else reject(new Error(`ejabberd exited (${code}): ${output.slice(-2000)}`));
      }),
    );
    exited.catch(() => undefined);
    await Promise.race([Promise.all([waitForPort(this.c2sPort, 30_000, "ejabberd"), waitForPort(this.componentPort, 30_000, "ejabberd")]), exited]);
    await Promise.race([run("ejabberdctl", this.args("started"), asEjabberd()), exited]);
    for (const [username, password] of this.users.splice(0)) await this.register(username, password);
  }

  async register(username: string, password: string): Promise<void> {
    await run("ejabberdctl", this.args("register", username, this.options.domain, password), asEjabberd()).catch((error: { stderr?: string }) => {
      if (!String(error.stderr ?? "").includes("already registered")) throw error;
    });
    this.users.push([username, password]);
  }

  async removeUser(username: string): Promise<void> {
    await run("ejabberdctl", this.args("unregister", username, this.options.domain), asEjabberd());
    // Not registered again when the server restarts.
    const kept = this.users.filter(([name]) => name !== username);
    this.users.splice(0, this.users.length, ...kept);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    await run("ejabberdctl", this.args("stop"), asEjabberd()).catch(() => undefined);
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
    // Users registered before stay in the spool; remember them so start() does not redo it.
    this.users.length = 0;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private args(...command: string[]): string[] {
    const { dir } = this.options;
    return [
      "--node",
      this.node,
      "--config-dir",
      dir,
      "--ctl-config",
      join(dir, "ejabberdctl.cfg"),
      "--config",
      join(dir, "ejabberd.yml"),
      "--spool",
      join(dir, "spool"),
      "--logs",
      join(dir, "logs"),
      ...command,
    ];
  }

  private config(): string {
    const { domain, components, privileged } = this.options;
    const hosts = components.map((component) => `      "${component.domain}":\n        password: "${component.secret}"`).join("\n");
    return `hosts: ["${domain}"]
loglevel: info
log_rotate_count: 0
certfiles: []
auth_method: internal
auth_password_format: plain
disable_sasl_mechanisms: ["scram-sha-1", "scram-sha-256", "scram-sha-512", "digest-md5", "x-oauth2"]
s2s_access: none
listen:
  -
    port: ${this.c2sPort}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls: false
    max_stanza_size: 1048576
  -
    port: ${this.componentPort}
    ip: "127.0.0.1"
    module: ejabberd_service
    global_routes: false
    hosts:
${hosts}
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
shaper_rules: {}
modules:
  mod_disco:
    extra_domains: [${components.map((component) => `"${component.domain}"`).join(", ")}]
  mod_roster: {}
  mod_offline:
    access_max_user_messages: unlimited
  mod_ping: {}
  mod_version: {}
  mod_vcard: {}
${privileged ? `  mod_privilege:\n    roster:\n      both: all\n    message:\n      outgoing: all\n` : ""}`;
  }
}

// Run ejabberdctl as the ejabberd user directly: run as root it re-executes itself through su,
// which drops the --config/--spool options.
function asEjabberd(): { uid: number; gid: number; env: NodeJS.ProcessEnv } {
  const { uid, gid } = statSync("/var/lib/ejabberd");
  return { uid, gid, env: { ...process.env, HOME: "/var/lib/ejabberd" } };
}

function handOver(dir: string): void {
  const { uid, gid } = statSync("/var/lib/ejabberd");
  const walk = (path: string): void => {
    chownSync(path, uid, gid);
    if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(dir);
}
