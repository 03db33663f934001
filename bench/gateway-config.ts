// The switchboard.yaml a scenario's gateway runs with: the shipped defaults, except limits that
// exist to protect users from themselves and would otherwise be what the bench measures.
import { join } from "node:path";
import { COMPONENTS, DOMAIN, SECRET, SMS_NUMBER, type Servers } from "./servers.js";

export interface ConfigInput {
  servers: Servers;
  dir: string;
  httpPort: number;
  transport: "sms" | "email";
  logLevel: string;
  /** The SQLite store's store.sync. */
  sync: "normal" | "full";
  /** A PostgreSQL database's URI, or nothing for the SQLite file in `dir`. */
  storeUri?: string;
}

export function gatewayConfig(input: ConfigInput): Record<string, unknown> {
  const { servers, dir, httpPort } = input;
  return {
    xmpp: { host: "127.0.0.1", port: servers.prosody.componentPort, serverDomain: DOMAIN },
    store: {
      uri: input.storeUri ?? `sqlite://${join(dir, "switchboard.sqlite")}`,
      ...(input.storeUri && { journalDir: join(dir, "journal") }),
      secretKey: "bench-secret-key-0123456789",
      sync: input.sync,
    },
    http: { host: "127.0.0.1", port: httpPort },
    media: { dir: join(dir, "media") },
    log: { level: input.logLevel },
    access: { register: [DOMAIN] },
    // One user sends all 5,000 messages: the per-user rate limit (30 a minute) would be the result.
    limits: { messagesPerMinute: 10_000_000, maxQueuedStanzas: 200_000 },
    transports: { [input.transport]: input.transport === "sms" ? smsSection(servers) : emailSection() },
  };
}

function smsSection(servers: Servers): Record<string, unknown> {
  return {
    domain: COMPONENTS.sms,
    secret: SECRET,
    apiBaseUrl: servers.twilio.baseUrl,
    operator: { accountSid: servers.operator.sid, authToken: servers.operator.authToken, numbers: [SMS_NUMBER] },
    // Pacing exists for Twilio's per-number queue (1 text/s by default); the stand-in has none.
    messagesPerSecond: 1_000_000,
  };
}

function emailSection(): Record<string, unknown> {
  // Personal mode on loopback servers; everything else as shipped (idle delay, pool of 2 SMTP
  // connections per account).
  return { domain: COMPONENTS.email, secret: SECRET, mode: "personal", allowPrivateServers: true };
}

/** Registration fields of a personal mailbox on the bench's Dovecot and SMTP sink. */
export function mailboxFields(servers: Servers, address: string, password: string): Record<string, string> {
  return {
    address,
    imap_host: "127.0.0.1",
    imap_port: String(servers.dovecot.imapPort),
    imap_security: "none",
    smtp_host: "127.0.0.1",
    smtp_port: String(servers.smtp.port),
    smtp_security: "none",
    password,
  };
}
