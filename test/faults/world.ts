// Everything the fault suite runs against: a real Prosody, Dovecot, an SMTP relay, the Twilio
// stand-in, and the gateway as a separate process with both transports; or, on PostgreSQL, several
// gateway processes on one database, the first holding the domains and the others standing by.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/trial/ports.js";
import { LocalProsody } from "../../src/trial/prosody.js";
import { LocalDovecot } from "../support/dovecot.js";
import { testStore } from "../support/postgres.js";
import { registrationForm } from "../support/register.js";
import { SmtpRelay } from "../support/smtp-relay.js";
import { startTwilioStandin, type StandinAccount, type TwilioStandin } from "../support/twilio-standin.js";
import { TestClient, xml } from "../support/xmpp-client.js";
import { printEvidence, printWhereLost } from "./evidence.js";
import { GatewayProcess } from "./gateway-process.js";
import { failedRows, missingSince } from "./ledger.js";

export const DOMAIN = "example.test";
export const EMAIL = "email.example.test";
export const SMS = "sms.example.test";
export const PASSWORD = "password";
export const MAIL_PASSWORD = "mail-password";
export const NUMBER = "+14155550100";
const SECRET = "fault-secret";
/** The load balancer's address, when there are several instances (nothing listens there). */
export const PUBLIC_URL = "https://gateway.example.test";

export const mailAddress = (user: string): string => `${user}@mail.example.test`;
export const emailJid = (address: string): string => `${address.replace("@", "\\40")}@${EMAIL}`;
export const phoneJid = (number: string): string => `${number}@${SMS}`;

export interface World {
  dir: string;
  prosody: LocalProsody;
  dovecot: LocalDovecot;
  relay: SmtpRelay;
  twilio: TwilioStandin;
  operator: StandinAccount;
  /** The first instance. */
  gateway: GatewayProcess;
  /** Every instance, the first one first. */
  gateways: GatewayProcess[];
  /** The store the instances share (sqlite:// or postgresql://). */
  storeUri: string;
  /** The SMS webhook URL of an instance (the first by default). */
  webhookUrl(gateway?: GatewayProcess): string;
  login(user: string): Promise<TestClient>;
  /** Registers `user` with both transports (e-mail: their own Dovecot mailbox; SMS: NUMBER). */
  join(client: TestClient, user: string): Promise<void>;
  incomingUrl: string;
  stop(): Promise<void>;
}

export interface WorldOptions {
  /** Gateway processes on the one store (more than one needs PostgreSQL). */
  instances?: number;
  /** Where the SQLite store and its intake journal go instead of the world's folder. */
  storeDir?: string;
  /** Writes an instance's config file by hand from the config the world would use (its store
   *  section already replaced by the caller's), with `env` for the variables it names. */
  configText?: (config: Record<string, unknown>, home: string) => string;
  env?: Record<string, string>;
  /** Start the instances after the first (standing by) now; without, the test starts them. */
  startStandbys?: boolean;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const instances = options.instances ?? 1;
  const dir = mkdtempSync(join(tmpdir(), "switchboard-faults-"));
  const failedBefore = failedRows();
  const prosody = new LocalProsody({ dir: join(dir, "prosody"), domain: DOMAIN, components: [EMAIL, SMS].map((domain) => ({ domain, secret: SECRET })) });
  for (const user of ["juliet", "romeo"]) prosody.addUser(user, PASSWORD);
  await prosody.start();
  const dovecot = new LocalDovecot();
  for (const user of ["juliet", "romeo"]) dovecot.addMailbox(mailAddress(user), MAIL_PASSWORD);
  await dovecot.start();
  const relay = new SmtpRelay({ lmtpPort: dovecot.lmtpPort });
  await relay.start();
  const twilio = await startTwilioStandin();
  const operator = twilio.addAccount();
  twilio.addNumber(operator, NUMBER);

  const store = await testStore(options.storeDir ?? dir, "fault-suite-secret-key-0123");
  if (instances > 1 && /^sqlite:/i.test(store.uri)) throw new Error("several instances need a PostgreSQL store (SWITCHBOARD_TEST_STORE=postgresql)");
  const config = (home: string, httpPort: number) => ({
    xmpp: {
      host: "127.0.0.1",
      port: prosody.componentPort,
      serverDomain: DOMAIN,
      reconnectMinSeconds: 0.2,
      reconnectMaxSeconds: 1,
      pingIntervalSeconds: 5,
      pingTimeoutSeconds: 5,
    },
    store: instances > 1 ? { ...store, journalDir: join(home, "journal") } : store,
    // Several instances sit behind one load balancer: Twilio signs webhooks over its URL, the same
    // for all of them, so each instance checks signatures against that URL, not its own.
    http: { host: "127.0.0.1", port: httpPort, ...(instances > 1 && { publicUrl: PUBLIC_URL }) },
    media: { dir: join(home, "media") },
    log: { level: "info" },
    limits: { messagesPerMinute: 100_000, maxQueuedStanzas: 100_000, registrationAttemptsPerUser: 1_000, registrationsPerMinute: 1_000 },
    transports: {
      email: {
        domain: EMAIL,
        secret: SECRET,
        mode: "personal",
        allowPrivateServers: true,
        imap: { idleDelayMs: 50, idleRestartMs: 60_000, reconnectMinMs: 100, reconnectMaxMs: 500, timeoutMs: 5_000 },
        smtp: { timeoutMs: 3_000, maxConnections: 2 },
      },
      sms: {
        domain: SMS,
        secret: SECRET,
        apiBaseUrl: twilio.baseUrl,
        defaultRegion: "US",
        messagesPerSecond: 500,
        statusGraceMs: 200,
        operator: { accountSid: operator.sid, authToken: operator.authToken, numbers: [NUMBER] },
      },
    },
  });
  const gateways: GatewayProcess[] = [];
  for (let i = 0; i < instances; i += 1) {
    const home = instances > 1 ? join(dir, `instance-${i + 1}`) : dir;
    mkdirSync(home, { recursive: true });
    const httpPort = await freePort();
    const written = config(home, httpPort);
    gateways.push(new GatewayProcess(home, written, httpPort, options.configText?.(written, home), options.env));
  }
  const gateway = gateways[0]!;
  await gateway.start();
  if (options.startStandbys ?? true) for (const standby of gateways.slice(1)) await standby.start({ standby: true });
  const webhookUrl = (target = gateway): string => `http://127.0.0.1:${target.httpPort}/sms/${SMS}/incoming`;
  const incomingUrl = webhookUrl(gateway);
  for (const number of operator.numbers.values()) number.smsUrl = incomingUrl;
  const clients: TestClient[] = [];

  return {
    dir,
    prosody,
    dovecot,
    relay,
    twilio,
    operator,
    gateway,
    gateways,
    storeUri: store.uri,
    webhookUrl,
    incomingUrl,
    async login(user) {
      const client = await TestClient.login(prosody.c2sPort, DOMAIN, user, PASSWORD);
      clients.push(client);
      return client;
    },
    async join(client, user) {
      const email = await client.iq(
        xml(
          "iq",
          { type: "set", to: EMAIL },
          xml(
            "query",
            { xmlns: "jabber:iq:register" },
            registrationForm({
              address: mailAddress(user),
              imap_host: "127.0.0.1",
              imap_port: String(dovecot.imapPort),
              imap_security: "none",
              smtp_host: "127.0.0.1",
              smtp_port: String(relay.port),
              smtp_security: "none",
              password: MAIL_PASSWORD,
            }),
          ),
        ),
        20_000,
      );
      if (email.attrs.type !== "result") throw new Error(`e-mail registration failed: ${email.toString()}`);
      const sms = await client.iq(
        xml("iq", { type: "set", to: SMS }, xml("query", { xmlns: "jabber:iq:register" }, registrationForm({ number: NUMBER }))),
        20_000,
      );
      if (sms.attrs.type !== "result") throw new Error(`SMS registration failed: ${sms.toString()}`);
    },
    async stop() {
      await Promise.allSettled(clients.map((client) => client.stop()));
      await Promise.allSettled(gateways.map((instance) => instance.stop()));
      await twilio.stop();
      await relay.stop();
      await dovecot.destroy();
      await prosody.stop();
      if (failedRows() > failedBefore) {
        printEvidence(dir);
        await printWhereLost(dir, store.uri, missingSince(failedBefore));
      }
      if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    },
  };
}
