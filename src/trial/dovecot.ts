// A real Dovecot (IMAP + LMTP) of our own in a folder, on free loopback ports, for the trial and the tests.
// Mailboxes live in a passwd-file with plain passwords; mail is stored as Maildir under the folder.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { PortTakenError, freePort, startOnFreePorts } from "./ports.js";

export interface DovecotMailbox {
  user: string;
  password: string;
}

export class LocalDovecot {
  imapPort = 0;
  lmtpPort = 0;
  readonly dir: string;
  private child: ChildProcess | null = null;
  private readonly mailboxes = new Map<string, string>();

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), "switchboard-dovecot-"));
    mkdirSync(this.dir, { recursive: true });
    // Dovecot's unprivileged processes (auth worker, mail processes) must reach files in here.
    chmodSync(this.dir, 0o755);
  }

  get logPath(): string {
    return join(this.dir, "dovecot.log");
  }

  /** Adds (or changes the password of) a mailbox, even while running. Dovecot looks at the file
   *  at most once a second, so a change can take a second to count. */
  addMailbox(user: string, password: string): void {
    this.mailboxes.set(user, password);
    this.writeUsers();
  }

  /** Starts Dovecot; a first start picks free ports, again if another program takes one first.
   *  Ports set before (the trial's) and a restart's are kept. */
  async start(): Promise<void> {
    if (this.imapPort || this.lmtpPort) return this.launch();
    await startOnFreePorts(async () => {
      this.imapPort = await freePort();
      this.lmtpPort = await freePort();
      await this.launch();
    });
  }

  private async launch(): Promise<void> {
    if (!this.imapPort) this.imapPort = await freePort();
    if (!this.lmtpPort) this.lmtpPort = await freePort();
    this.writeConfig();
    const child = spawn("dovecot", ["-F", "-c", join(this.dir, "dovecot.conf")], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    this.child = child;
    const exited = new Promise<never>((_resolve, reject) =>
      child.once("exit", (code) => {
        if (this.child === child) this.child = null;
        const taken = /listen\(127\.0\.0\.1, (\d+)\) failed: Address already in use/.exec(stderr);
        if (taken) reject(new PortTakenError(`dovecot could not listen on 127.0.0.1:${taken[1]}: another program holds that port`));
        else reject(new Error(`dovecot exited (code ${code}) before it was ready: ${stderr.trim()} (see ${this.logPath})`));
      }),
    );
    exited.catch(() => undefined);
    await Promise.race([Promise.all([waitForPort(this.imapPort), waitForPort(this.lmtpPort)]), exited]);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) {
      this.child = null;
      return;
    }
    // Mail processes outlive the master until they notice it is gone (seconds later, serving the
    // old connection all the while); a stopped server should hold no connection at all.
    const children = this.processes();
    this.child = null;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    for (const leftover of children) killQuietly(leftover.pid);
    // The master leaves its children to finish; wait until the ports are really closed.
    await waitForPortClosed(this.imapPort);
    await waitForPortClosed(this.lmtpPort);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Cuts every IMAP connection of a mailbox at once, the way a crash or a network fault would.
   *  (`doveadm kick` misses sessions that logged in while Dovecot was still starting.) */
  dropConnections(user: string): number {
    const victims = this.processes().filter((process) => process.title.startsWith(`dovecot/imap [${user} `));
    for (const victim of victims) killQuietly(victim.pid);
    return victims.length;
  }

  /** This instance's processes: the children of its master (other tests' Dovecots are left alone). */
  private processes(): Array<{ pid: number; title: string }> {
    const master = this.child?.pid;
    if (!master) return [];
    const found: Array<{ pid: number; title: string }> = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // The parent pid is the 2nd field after the parenthesised command name in /proc/<pid>/stat.
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid !== master) continue;
        found.push({ pid: Number(entry), title: readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ").trim() });
      } catch {
        // the process ended while we looked
      }
    }
    return found;
  }

  /** Stops Dovecot and removes its folder. */
  async destroy(): Promise<void> {
    await this.stop();
    if (!process.env.KEEP_TEST_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }

  private writeUsers(): void {
    const lines = [...this.mailboxes].map(([user, password]) => `${user}:{PLAIN}${password}::::::`);
    const path = join(this.dir, "users");
    writeFileSync(path, `${lines.join("\n")}\n`);
    chmodSync(path, 0o644);
  }

  private writeConfig(): void {
    const { dir } = this;
    const mail = join(dir, "mail");
    mkdirSync(mail, { recursive: true });
    mkdirSync(join(dir, "run"), { recursive: true });
    // Mail processes run as the "dovecot" user (never uid 0), so the mail folder must be theirs.
    if (userInfo().uid === 0) chownSync(mail, uidOf("dovecot"), gidOf("dovecot"));
    this.writeUsers();
    const asRoot = userInfo().uid === 0;
    const me = userInfo().username;
    const group = spawnSyncText("id", ["-gn"]).trim() || me;
    const config = [
      "# Written by Switchboard for a local trial or test run; loopback only.",
      `base_dir = ${join(dir, "run")}`,
      `state_dir = ${join(dir, "state")}`,
      `log_path = ${this.logPath}`,
      `info_log_path = ${this.logPath}`,
      "protocols = imap lmtp",
      "listen = 127.0.0.1",
      "ssl = no",
      "disable_plaintext_auth = no",
      "auth_mechanisms = plain login",
      // As root, Dovecot's own users (Debian's dovecot-core makes them); otherwise everything runs
      // as whoever started it, as a trial on a desktop does.
      `default_login_user = ${asRoot ? "dovenull" : me}`,
      `default_internal_user = ${asRoot ? "dovecot" : me}`,
      `mail_uid = ${asRoot ? "dovecot" : me}`,
      `mail_gid = ${asRoot ? "dovecot" : group}`,
      "first_valid_uid = 1",
      "first_valid_gid = 1",
      `mail_location = maildir:${mail}/%u`,
      "lmtp_save_to_detail_mailbox = no",
      // Process titles name the user, so a test can cut one mailbox's connections.
      "verbose_proctitle = yes",
      // IDLE learns of new mail through inotify, whose instances are few per uid and shared by
      // every Dovecot on the machine; when they run out, Dovecot falls back to looking this often.
      "mailbox_idle_check_interval = 1 secs",
      "passdb {",
      "  driver = passwd-file",
      `  args = scheme=PLAIN username_format=%u ${join(dir, "users")}`,
      "}",
      "userdb {",
      "  driver = static",
      `  args = uid=${asRoot ? "dovecot" : me} gid=${asRoot ? "dovecot" : group} home=${mail}/%u allow_all_users=yes`,
      "}",
      "service imap-login {",
      `  inet_listener imap {\n    address = 127.0.0.1\n    port = ${this.imapPort}\n  }`,
      "  inet_listener imaps {\n    port = 0\n  }",
      "}",
      "service lmtp {",
      `  inet_listener lmtp {\n    address = 127.0.0.1\n    port = ${this.lmtpPort}\n  }`,
      "}",
      "service stats {\n  unix_listener stats-reader {\n    mode = 0666\n  }\n  unix_listener stats-writer {\n    mode = 0666\n  }\n}",
      "",
    ].join("\n");
    writeFileSync(join(dir, "dovecot.conf"), config);
  }
}

function idOf(flag: "-u" | "-g", name: string): number {
  const out = spawnSyncText("id", [flag, name]);
  const id = Number(out.trim());
  if (!Number.isInteger(id)) throw new Error(`there is no system user "${name}" (install Debian's dovecot-core)`);
  return id;
}
const uidOf = (name: string): number => idOf("-u", name);
const gidOf = (name: string): number => idOf("-g", name);

function spawnSyncText(command: string, args: string[]): string {
  return spawnSync(command, args, { encoding: "utf8" }).stdout ?? "";
}

function killQuietly(pid: number): void {
  try {
    // The pid could have been reused since we looked: only ever kill a Dovecot process.
    if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("dovecot/")) return;
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function probe(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe(port))) {
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitForPortClosed(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await probe(port)) {
    if (Date.now() > deadline) throw new Error(`127.0.0.1:${port} still open ${timeoutMs} ms after dovecot stopped`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
