// A real Postfix (Debian's) of our own in a temporary folder: its own main.cf and master.cf, queue
// and data folders, an smtpd on a free loopback port, and the hosted mail domain handed to an LMTP
// listener (`virtual_transport = lmtp:inet:…`). Everything else it sends (bounces) goes to a
// relay host the test names. Started with `postfix -c <dir> start` as root, stopped with `stop`.
import { execFile } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PortTakenError, freePort, startOnFreePorts, waitForPort } from "../../src/trial/ports.js";

const run = promisify(execFile);
const POSTFIX = existsSync("/usr/sbin/postfix") ? "/usr/sbin/postfix" : "postfix";
const POSTQUEUE = existsSync("/usr/sbin/postqueue") ? "/usr/sbin/postqueue" : "postqueue";
const POSTCONF = existsSync("/usr/sbin/postconf") ? "/usr/sbin/postconf" : "postconf";

export interface PostfixOptions {
  /** The mail domain whose mail goes to the LMTP listener. */
  virtualDomain: string;
  /** Where that listener is: "inet:127.0.0.1:PORT" or "unix:/path". */
  lmtp: string;
  /** Where everything else goes (bounces to senders): a loopback SMTP port. */
  relayPort: number;
}

export interface QueuedMail {
  queue_name: string;
  queue_id: string;
  sender: string;
  recipients: Array<{ address: string; delay_reason?: string }>;
}

export class LocalPostfix {
  readonly dir = mkdtempSync(join(tmpdir(), "switchboard-postfix-"));
  readonly config = join(this.dir, "conf");
  smtpPort = 0;

  constructor(private readonly options: PostfixOptions) {}

  get logFile(): string {
    return join(this.dir, "postfix.log");
  }

  /** A first start picks its port free, again if another program takes it first; later starts keep it. */
  async start(): Promise<void> {
    if (this.smtpPort) return this.launch();
    await startOnFreePorts(async () => {
      this.smtpPort = await freePort();
      await this.launch();
    });
  }

  private async launch(): Promise<void> {
    // The queue's daemons run as the postfix user and must reach their folders inside.
    chmodSync(this.dir, 0o755);
    for (const folder of ["conf", "queue", "data"]) mkdirSync(join(this.dir, folder), { recursive: true });
    chownSync(join(this.dir, "data"), postfixUid(), postfixGid());
    writeFileSync(join(this.config, "main.cf"), this.mainCf());
    writeFileSync(join(this.config, "master.cf"), this.masterCf());
    await run(POSTFIX, ["-c", this.config, "start"]).catch((error: Error) => {
      const log = existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
      if (log.includes(`bind 127.0.0.1 port ${this.smtpPort}: Address already in use`)) {
        throw new PortTakenError(`postfix could not listen on 127.0.0.1:${this.smtpPort}: another program holds that port`);
      }
      throw error;
    });
    await waitForPort(this.smtpPort, 15_000, "Postfix's smtpd");
  }

  async stop(): Promise<void> {
    await run(POSTFIX, ["-c", this.config, "stop"]).catch(() => undefined);
    // `stop` returns once the master was told; its children go with it shortly after.
    const pidFile = join(this.dir, "queue", "pid", "master.pid");
    const deadline = Date.now() + 5_000;
    while (existsSync(pidFile) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  }

  async destroy(): Promise<void> {
    await this.stop();
    if (!process.env.KEEP_TEST_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Changes main.cf settings (postconf -e) and restarts Postfix with them. Not `postfix reload`:
   *  after a reload an smtpd process already running may still serve the next client with the old
   *  settings (a test of recipient verification saw its restriction ignored that way). */
  async configure(settings: Record<string, string>): Promise<void> {
    await run(POSTCONF, ["-c", this.config, "-e", ...Object.entries(settings).map(([name, value]) => `${name}=${value}`)]);
    await run(POSTFIX, ["-c", this.config, "stop"]);
    const running = () =>
      run(POSTFIX, ["-c", this.config, "status"]).then(
        () => true,
        () => false,
      );
    for (const deadline = Date.now() + 10_000; (await running()) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 100));
    await run(POSTFIX, ["-c", this.config, "start"]).catch((error: Error) => {
      const log = existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
      if (log.includes(`bind 127.0.0.1 port ${this.smtpPort}: Address already in use`)) {
        throw new PortTakenError(`postfix could not listen on 127.0.0.1:${this.smtpPort}: another program holds that port`);
      }
      throw error;
    });
    await waitForPort(this.smtpPort, 15_000, "Postfix's smtpd");
  }

  /** Asks Postfix to try every queued mail now (postqueue -f). */
  async flush(): Promise<void> {
    await run(POSTQUEUE, ["-c", this.config, "-f"]);
  }

  /** The mails in Postfix's queue (postqueue -j). */
  async queue(): Promise<QueuedMail[]> {
    const { stdout } = await run(POSTQUEUE, ["-c", this.config, "-j"]);
    return stdout
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as QueuedMail);
  }

  /** Postfix's log so far. */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
  }

  private mainCf(): string {
    const { virtualDomain, lmtp, relayPort } = this.options;
    return `${[
      "compatibility_level = 3.6",
      `queue_directory = ${join(this.dir, "queue")}`,
      `data_directory = ${join(this.dir, "data")}`,
      "mail_owner = postfix",
      "setgid_group = postdrop",
      "inet_interfaces = 127.0.0.1",
      "inet_protocols = ipv4",
      "myhostname = mta.example.test",
      "mydomain = example.test",
      "myorigin = $myhostname",
      "mydestination =",
      "mynetworks = 127.0.0.0/8",
      "relay_domains =",
      `relayhost = [127.0.0.1]:${relayPort}`,
      `virtual_mailbox_domains = ${virtualDomain}`,
      `virtual_transport = lmtp:${lmtp}`,
      "alias_maps =",
      "alias_database =",
      // Postfix writes its log only under one of these prefixes (otherwise it exits without a word).
      `maillog_file_prefixes = ${this.dir}`,
      `maillog_file = ${this.logFile}`,
      "biff = no",
      // Test speed: deferred mail is retried within seconds, and a dead listener is not remembered long.
      "queue_run_delay = 1s",
      "minimal_backoff_time = 1s",
      "maximal_backoff_time = 2s",
      "lmtp_connect_timeout = 5s",
    ].join("\n")}\n`;
  }

  private masterCf(): string {
    // Debian's chroot is off (column 5 "n"): the daemons use the queue folder as it is.
    const services = [
      `127.0.0.1:${this.smtpPort} inet n - n - - smtpd`,
      "pickup unix n - n 60 1 pickup",
      "cleanup unix n - n - 0 cleanup",
      "qmgr unix n - n 300 1 qmgr",
      "rewrite unix - - n - - trivial-rewrite",
      "bounce unix - - n - 0 bounce",
      "defer unix - - n - 0 bounce",
      "trace unix - - n - 0 bounce",
      "verify unix - - n - 1 verify",
      "flush unix n - n 1000? 0 flush",
      "proxymap unix - - n - - proxymap",
      "smtp unix - - n - - smtp",
      "relay unix - - n - - smtp",
      "showq unix n - n - - showq",
      "error unix - - n - - error",
      "retry unix - - n - - error",
      "discard unix - - n - - discard",
      "lmtp unix - - n - - lmtp",
      "anvil unix - - n - 1 anvil",
      "scache unix - - n - 1 scache",
      "postlog unix-dgram n - n - 1 postlogd",
    ];
    return `${services.join("\n")}\n`;
  }
}

function postfixUid(): number {
  return idOf("/etc/passwd", "postfix");
}

function postfixGid(): number {
  return idOf("/etc/group", "postfix");
}

function idOf(file: string, name: string): number {
  const line = readFileSync(file, "utf8")
    .split("\n")
    .find((entry) => entry.startsWith(`${name}:`));
  if (!line) throw new Error(`no ${name} entry in ${file}: is Debian's postfix package installed?`);
  return Number(line.split(":")[2]);
}
