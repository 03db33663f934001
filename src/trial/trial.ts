// `switchboard trial`: a local Prosody with two users and the gateway attached to it, so a new
// user can try Switchboard with any Jabber client in a minute. Everything lives in one folder.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { run } from "../run.js";
import { freePort, portFree } from "./ports.js";
import { LocalProsody, prosodyInstalled } from "./prosody.js";
import { trialTransports } from "./trial-transports.js";

interface TrialState {
  users: Record<string, string>;
  componentSecret: string;
  secretKey: string;
  c2sPort: number;
  componentPort: number;
  httpPort: number;
}

const DOMAIN = "localhost";

export async function runTrial(folder: string): Promise<number> {
  const dir = resolve(folder);
  if (!ensureProsody()) return 1;
  mkdirSync(dir, { recursive: true });
  const state = await loadState(join(dir, "trial.json"));
  const transports = trialTransports(DOMAIN);

  const prosody = new LocalProsody({
    dir: join(dir, "prosody"),
    domain: DOMAIN,
    components: transports.map((transport) => ({ domain: transport.domain, secret: state.componentSecret })),
    c2sPort: state.c2sPort,
    componentPort: state.componentPort,
  });
  for (const [user, password] of Object.entries(state.users)) prosody.addUser(user, password);
  await prosody.start();

  const configPath = join(dir, "switchboard.yaml");
  writeFileSync(configPath, trialConfig(dir, state, transports));
  const users = Object.entries(state.users).map(([user, password]) => `    ${user}@${DOMAIN}   password: ${password}`);
  console.error(
    [
      "",
      "Switchboard trial",
      `  XMPP server (Prosody) on 127.0.0.1:${state.c2sPort} for ${DOMAIN}; log in with any Jabber client as:`,
      ...users,
      "  (plain-text login on loopback: allow it in your client, e.g. profanity, Gajim, Dino, go-sendxmpp)",
      `  Transports: ${transports.map((transport) => `${transport.domain} (${transport.what})`).join(", ")}`,
      "  Discover them from your client's service discovery, register, and add contacts.",
      `  Config written to ${configPath}; gateway health at http://127.0.0.1:${state.httpPort}/healthz`,
      "  Ctrl-C stops the gateway and Prosody.",
      "",
    ].join("\n"),
  );
  try {
    return await run(configPath);
  } finally {
    await prosody.stop();
  }
}

function ensureProsody(): boolean {
  if (prosodyInstalled()) return true;
  const root = process.getuid?.() === 0;
  if (!root) {
    console.error("The trial needs Prosody. Install it with:  sudo apt-get install -y prosody   and run the trial again.");
    return false;
  }
  console.error("Installing Prosody from Debian's packages (apt-get install prosody)…");
  try {
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "prosody"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    // Debian starts it as a system service on the standard ports; the trial runs its own.
    try {
      execFileSync("service", ["prosody", "stop"], { stdio: "ignore" });
    } catch {
      // no service manager in containers
    }
  } catch {
    console.error("Installing Prosody failed; install it by hand (apt-get install prosody) and run the trial again.");
    return false;
  }
  return prosodyInstalled();
}

async function loadState(file: string): Promise<TrialState> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as TrialState;
  const secret = () => randomBytes(12).toString("base64url");
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
    [`  ${transport.name}:`, `    domain: ${transport.domain}`, `    secret: "${state.componentSecret}"`, ...transport.options.map((line) => `    ${line}`)].join("\n"),
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
