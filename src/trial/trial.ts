// `switchboard trial`: a local Prosody with two users and the gateway attached to it, so a new
// user can try Switchboard with any Jabber client in a minute. Prosody offers STARTTLS with a
// self-signed certificate and takes passwords only over TLS, as clients insist. With --with-mail,
// alice and bob also get mailboxes (Dovecot, and a submission server that delivers into it), so
// a whole e-mail round trip works on one machine. Everything lives in one folder.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { run } from "../run.js";
import { ensureCertificate } from "./certificate.js";
import { LocalDovecot } from "./dovecot.js";
import { TrialSubmission } from "./submission.js";
import { freePort, portFree, startOnFreePorts } from "./ports.js";
import { moveTakenPorts } from "./moved-ports.js";
import { LocalProsody, prosodyInstalled } from "./prosody.js";
import { trialTransports } from "./trial-transports.js";

interface TrialState {
  users: Record<string, string>;
  componentSecret: string;
  secretKey: string;
  c2sPort: number;
  componentPort: number;
  httpPort: number;
  /** Present once the trial ran with --with-mail. */
  mail?: { passwords: Record<string, string>; imapPort: number; lmtpPort: number; smtpPort: number };
}

const DOMAIN = "localhost";
const PORT_NAMES = {
  c2sPort: "the XMPP server (Prosody) for your Jabber client",
  componentPort: "Prosody's component port",
  httpPort: "the gateway's HTTP listener",
};

export async function runTrial(folder: string, options: { withMail?: boolean } = {}): Promise<number> {
  const dir = resolve(folder);
  if (!ensureProsody()) return 1;
  if (!ensurePackage("openssl", () => ["/usr/bin/openssl", "/usr/local/bin/openssl"].some((path) => existsSync(path)), ["openssl"], "")) return 1;
  if (options.withMail && !ensureDovecot()) return 1;
  mkdirSync(dir, { recursive: true });
  const statePath = join(dir, "trial.json");
  const state = await loadState(statePath);
  if (options.withMail && !state.mail) {
    state.mail = {
      passwords: { alice: secret(), bob: secret() },
      imapPort: await preferred(1143),
      lmtpPort: await freePort(),
      smtpPort: await preferred(1587),
    };
    writeFileSync(statePath, JSON.stringify(state, null, 2), { mode: 0o600 });
  }
  const moved = await moveTakenPorts(state, PORT_NAMES);
  if (state.mail) {
    moved.push(...(await moveTakenPorts(state.mail, { imapPort: "IMAP (Dovecot)", lmtpPort: "Dovecot's LMTP", smtpPort: "SMTP submission" })));
  }
  if (moved.length) writeFileSync(statePath, JSON.stringify(state, null, 2), { mode: 0o600 });
  const mail = options.withMail ? state.mail : undefined;
  const transports = trialTransports(DOMAIN, { localMail: mail !== undefined });
  const tls = ensureCertificate(dir, DOMAIN);

  const prosodyOnPorts = (): LocalProsody => {
    const prosody = new LocalProsody({
      dir: join(dir, "prosody"),
      domain: DOMAIN,
      components: transports.map((transport) => ({ domain: transport.domain, secret: state.componentSecret })),
      c2sPort: state.c2sPort,
      componentPort: state.componentPort,
      tls,
    });
    for (const [user, password] of Object.entries(state.users)) prosody.addUser(user, password);
    return prosody;
  };
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    // A port can still be taken between the look above and Prosody's own bind.
    await startOnFreePorts(
      async () => {
        const prosody = prosodyOnPorts();
        await prosody.start();
        started.push(prosody);
      },
      async () => {
        moved.push(...(await moveTakenPorts(state, PORT_NAMES)));
        writeFileSync(statePath, JSON.stringify(state, null, 2), { mode: 0o600 });
        return true;
      },
    );
    if (mail) {
      // Dovecot's own users (as root) must reach its folder inside: let them through, not list.
      if (process.getuid?.() === 0) chmodSync(dir, 0o711);
      const dovecot = new LocalDovecot(join(dir, "dovecot"));
      dovecot.imapPort = mail.imapPort;
      dovecot.lmtpPort = mail.lmtpPort;
      const accounts = Object.fromEntries(Object.entries(mail.passwords).map(([user, password]) => [`${user}@${DOMAIN}`, password]));
      for (const [address, password] of Object.entries(accounts)) dovecot.addMailbox(address, password);
      await dovecot.start();
      started.push(dovecot);
      const submission = new TrialSubmission({ lmtpPort: mail.lmtpPort, domain: DOMAIN, accounts, port: mail.smtpPort });
      await submission.start();
      started.push(submission);
    }

    const configPath = join(dir, "switchboard.yaml");
    writeFileSync(configPath, trialConfig(dir, state, transports));
    const users = Object.entries(state.users).map(([user, password]) => `    ${user}@${DOMAIN}   password: ${password}`);
    console.error(
      [
        "",
        "Switchboard trial",
        ...moved,
        `  XMPP server (Prosody) on 127.0.0.1:${state.c2sPort} for ${DOMAIN}, with STARTTLS; log in with your Jabber client as:`,
        ...users,
        `  Its certificate is self-signed. SHA-256 fingerprint:`,
        `    ${tls.fingerprint}`,
        '  Gajim: when it shows the certificate, tick "Add this certificate to the list of trusted certificates" and connect.',
        "  Dino: it refuses unknown certificates; run the trial on a host whose name you can put in a real",
        `  certificate, or trust ${tls.certificate} in the system's store first.`,
        `  Transports: ${transports.map((transport) => `${transport.domain} (${transport.what})`).join(", ")}`,
        "  Discover them from your client's service discovery, register, and add contacts.",
        ...(mail ? mailBanner(mail) : ["  Add --with-mail for local mailboxes (alice@localhost, bob@localhost) to try e-mail on this machine."]),
        `  Config written to ${configPath}; gateway health at http://127.0.0.1:${state.httpPort}/healthz`,
        `  Ctrl-C stops the gateway and ${mail ? "the servers" : "Prosody"}.`,
        "",
      ].join("\n"),
    );
    return await run(configPath);
  } finally {
    for (const server of started.reverse()) await server.stop().catch(() => undefined);
  }
}

function mailBanner(mail: NonNullable<TrialState["mail"]>): string[] {
  return [
    `  Mailboxes (IMAP 127.0.0.1:${mail.imapPort}, SMTP submission 127.0.0.1:${mail.smtpPort}, no TLS: loopback only):`,
    ...Object.entries(mail.passwords).map(([user, password]) => `    ${user}@${DOMAIN}   password: ${password}`),
    `  To try it: register with email.${DOMAIN} and fill in the form with your mailbox:`,
    `    E-mail address: alice@${DOMAIN} (bob@${DOMAIN} for Bob)`,
    `    IMAP server: 127.0.0.1   IMAP port: ${mail.imapPort}   IMAP security: none`,
    `    SMTP server: 127.0.0.1   SMTP port: ${mail.smtpPort}   SMTP security: none`,
    "    Password: the mailbox's password above",
    `  Then Alice writes to bob\\40${DOMAIN}@email.${DOMAIN}; Bob gets it as a chat from alice\\40${DOMAIN}@email.${DOMAIN}.`,
  ];
}

function ensureProsody(): boolean {
  return ensurePackage("Prosody", prosodyInstalled, ["prosody"], "prosody");
}

function ensureDovecot(): boolean {
  return ensurePackage("Dovecot", () => existsSync("/usr/sbin/dovecot"), ["dovecot-imapd", "dovecot-lmtpd"], "dovecot");
}

/** Installs Debian's packages when run as root and they are missing; otherwise says how. */
function ensurePackage(name: string, installed: () => boolean, packages: string[], service: string): boolean {
  if (installed()) return true;
  const root = process.getuid?.() === 0;
  if (!root) {
    console.error(`The trial needs ${name}. Install it with:  sudo apt-get install -y ${packages.join(" ")}   and run the trial again.`);
    return false;
  }
  console.error(`Installing ${name} from Debian's packages (apt-get install ${packages.join(" ")})…`);
  try {
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    // Debian starts it as a system service on the standard ports; the trial runs its own.
    try {
      if (service) execFileSync("service", [service, "stop"], { stdio: "ignore" });
    } catch {
      // no service manager in containers
    }
  } catch {
    console.error(`Installing ${name} failed; install it by hand (apt-get install ${packages.join(" ")}) and run the trial again.`);
    return false;
  }
  return installed();
}

const secret = (): string => randomBytes(12).toString("base64url");
const preferred = async (port: number): Promise<number> => ((await portFree(port)) ? port : freePort());

async function loadState(file: string): Promise<TrialState> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as TrialState;
  const state: TrialState = {
    users: { alice: secret(), bob: secret() },
    componentSecret: secret(),
    secretKey: randomBytes(24).toString("base64url"),
    c2sPort: (await portFree(5222)) ? 5222 : await freePort(),
    componentPort: (await portFree(5347)) ? 5347 : await freePort(),
    httpPort: (await portFree(8280)) ? 8280 : await freePort(),
  };
  writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  return state;
}

function trialConfig(dir: string, state: TrialState, transports: ReturnType<typeof trialTransports>): string {
  const sections = transports.map((transport) =>
    [
      `  ${transport.name}:`,
      `    domain: ${transport.domain}`,
      `    secret: "${state.componentSecret}"`,
      ...transport.options.map((line) => `    ${line}`),
    ].join("\n"),
  );
  return `# Written by \`switchboard trial\`. Run it again with: switchboard --config ${join(dir, "switchboard.yaml")}
xmpp:
  host: 127.0.0.1
  port: ${state.componentPort}
  serverDomain: ${DOMAIN}
store:
  uri: sqlite://${join(dir, "switchboard.sqlite")}
  secretKey: "${state.secretKey}"
http:
  host: 127.0.0.1
  port: ${state.httpPort}
media:
  dir: ${join(dir, "media")}
log:
  level: info
transports:
${sections.join("\n")}
`;
}
