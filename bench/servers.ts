// The real servers every scenario talks to, started once per bench run on loopback free ports in
// one temporary folder: Prosody, Dovecot (IMAP + LMTP), an SMTP sink and the Twilio stand-in.
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { LocalProsody } from "../src/trial/prosody.js";
import { LocalDovecot } from "../test/support/dovecot.js";
import { TwilioStandin, type StandinAccount } from "../test/support/twilio-standin.js";
import { SmtpSink } from "./smtp-sink.js";

export const DOMAIN = "bench.test";
export const SECRET = "bench-component-secret";
export const PASSWORD = "bench-password";
export const COMPONENTS = { sms: `sms.${DOMAIN}`, email: `email.${DOMAIN}`, echo: `echo.${DOMAIN}` };
/** The XMPP account that drives the load scenarios. */
export const LOADER = "loader";
export const SMS_NUMBER = "+14155550100";

export interface Servers {
  dir: string;
  prosody: LocalProsody;
  dovecot: LocalDovecot;
  smtp: SmtpSink;
  twilio: TwilioStandin;
  operator: StandinAccount;
  stop(): Promise<void>;
}

export async function startServers(dir: string, idleUsers: number): Promise<Servers> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const step of stops.reverse()) await step().catch((error: unknown) => console.error(`stopping a server failed: ${String(error)}`));
  };
  try {
    const prosody = new LocalProsody({
      dir: join(dir, "prosody"),
      domain: DOMAIN,
      components: Object.values(COMPONENTS).map((domain) => ({ domain, secret: SECRET })),
      // LocalProsody does not load mod_limits, so c2s is not throttled (Debian's default config
      // would hold a client to 10 kB/s); the limits below only matter if someone adds the module.
      extraConfig: 'limits = { c2s = { rate = "100mb/s"; burst = "10s" } }',
    });
    mkdirSync(prosody.options.dir, { recursive: true });
    prosody.addUser(LOADER, PASSWORD);
    for (let index = 1; index <= idleUsers; index += 1) prosody.addUser(`idle${index}`, PASSWORD);
    await prosody.start();
    stops.push(() => prosody.stop());

    mkdirSync(join(dir, "dovecot"), { recursive: true });
    const dovecot = new LocalDovecot(join(dir, "dovecot"));
    await dovecot.start();
    stops.push(() => dovecot.stop());
    raiseDovecotLimits(dovecot, idleUsers);

    const smtp = new SmtpSink();
    await smtp.start();
    stops.push(() => smtp.stop());

    const twilio = new TwilioStandin();
    await twilio.start();
    stops.push(() => twilio.stop());
    const operator = twilio.addAccount();
    twilio.addNumber(operator, SMS_NUMBER);

    return { dir, prosody, dovecot, smtp, twilio, operator, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Dovecot serves 100 IMAP processes by default; the idle scenario holds one per account. */
function raiseDovecotLimits(dovecot: LocalDovecot, sessions: number): void {
  const limit = Math.max(100, sessions + 100);
  const config = join(dovecot.dir, "dovecot.conf");
  appendFileSync(config, `default_process_limit = ${limit}\ndefault_client_limit = ${limit * 4}\nmail_max_userip_connections = ${limit}\n`);
  const reload = spawnSync("doveadm", ["-c", config, "reload"], { encoding: "utf8", timeout: 10_000 });
  if (reload.status !== 0) throw new Error(`doveadm reload failed: ${reload.stderr}`);
}
