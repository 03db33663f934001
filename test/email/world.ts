// The world the e-mail tests run in: a real Dovecot, a real SMTP relay in front of it, a real
// Prosody, and Switchboard with the e-mail transport loaded by name from transports/email/.
import { spawn } from "node:child_process";
import { ImapFlow } from "imapflow";
import { simpleParser, type ParsedMail } from "mailparser";
import nodemailer from "nodemailer";
import { LocalDovecot } from "../support/dovecot.js";
import { startHarness, type Harness } from "../support/harness.js";
import { registrationForm } from "../support/register.js";
import { SmtpRelay } from "../support/smtp-relay.js";
import { xml, type Element, type TestClient } from "../support/xmpp-client.js";

export const EMAIL = "email.example.test";
export const MAIL_PASSWORD = "mail-password";

export interface World {
  dovecot: LocalDovecot;
  relay: SmtpRelay;
  h: Harness;
  stop(): Promise<void>;
}

/** Settings that make the transport react at test speed. */
export const FAST = {
  allowPrivateServers: true,
  imap: { idleDelayMs: 50, idleRestartMs: 60_000, reconnectMinMs: 100, reconnectMaxMs: 500, timeoutMs: 5_000 },
  smtp: { timeoutMs: 3_000, maxConnections: 1 },
};

export async function startWorld(options: {
  mailboxes: string[];
  /** The transport's config section beyond FAST, given the servers' ports. */
  email?: (ports: { imap: number; smtp: number }) => Record<string, unknown>;
  catchAll?: Record<string, string>;
  /** Changes to the gateway's config beyond the transport section (limits, say). */
  config?: (config: Record<string, unknown>) => void;
  /** Grant the transports XEP-0356 privileges (see startHarness). */
  privileged?: boolean;
}): Promise<World> {
  const dovecot = new LocalDovecot();
  for (const mailbox of options.mailboxes) dovecot.addMailbox(mailbox, MAIL_PASSWORD);
  await dovecot.start();
  const relay = new SmtpRelay({ lmtpPort: dovecot.lmtpPort, ...(options.catchAll && { catchAll: options.catchAll }) });
  await relay.start();
  let h: Harness;
  try {
    h = await startHarness({
      ...(options.config && { config: options.config }),
      ...(options.privileged && { privileged: true }),
      transports: { email: { domain: EMAIL, options: { ...FAST, ...options.email?.({ imap: dovecot.imapPort, smtp: relay.port }) } } },
    });
  } catch (error) {
    await relay.stop();
    await dovecot.destroy();
    throw error;
  }
  return {
    dovecot,
    relay,
    h,
    async stop() {
      await h.stop();
      await relay.stop();
      await dovecot.destroy();
    },
  };
}

/** Registration values for a personal account on the test Dovecot and relay. */
export function personalAccount(world: World, address: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    address,
    imap_host: "127.0.0.1",
    imap_port: String(world.dovecot.imapPort),
    imap_security: "none",
    smtp_host: "127.0.0.1",
    smtp_port: String(world.relay.port),
    smtp_security: "none",
    password: MAIL_PASSWORD,
    ...extra,
  };
}

export async function registerEmail(client: TestClient, values: Record<string, string>): Promise<Element> {
  return client.iq(xml("iq", { type: "set", to: EMAIL }, xml("query", { xmlns: "jabber:iq:register" }, registrationForm(values))), 15_000);
}

export const emailJid = (address: string): string => `${address.replace("@", "\\40")}@${EMAIL}`;

export function chat(to: string, body: string, extra: { id?: string; subject?: string; thread?: string; children?: Element[] } = {}): Element {
  return xml(
    "message",
    { to: emailJid(to), type: "chat", id: extra.id ?? `m-${Math.random().toString(36).slice(2)}` },
    extra.subject ? xml("subject", {}, extra.subject) : null,
    xml("body", {}, body),
    extra.thread ? xml("thread", {}, extra.thread) : null,
    ...(extra.children ?? []),
  );
}

/** A chat message with a body from the given contact. */
export function waitForChat(
  client: TestClient,
  from: string,
  match: (body: string, stanza: Element) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<Element> {
  return client.waitFor(
    (stanza) =>
      stanza.name === "message" &&
      stanza.attrs.type !== "error" &&
      stanza.attrs.from === emailJid(from) &&
      stanza.getChild("body") !== undefined &&
      match(stanza.getChildText("body") ?? "", stanza),
    timeoutMs,
  );
}

/** Sends a raw mail through the SMTP relay, as someone on the Internet would. */
export async function smtpSend(world: World, from: string, to: string[], raw: string): Promise<void> {
  const smtp = nodemailer.createTransport({ host: "127.0.0.1", port: world.relay.port, secure: false, ignoreTLS: true });
  try {
    await smtp.sendMail({ envelope: { from, to }, raw: raw.replace(/\r?\n/g, "\r\n") });
  } finally {
    smtp.close();
  }
}

/** Delivers a raw mail straight into Dovecot by LMTP, as the recipient's mail server would. */
export async function lmtpDeliver(world: World, from: string, to: string, raw: string | Buffer): Promise<void> {
  const lmtp = nodemailer.createTransport({ host: "127.0.0.1", port: world.dovecot.lmtpPort, lmtp: true, secure: false, ignoreTLS: true });
  try {
    await lmtp.sendMail({ envelope: { from, to: [to] }, raw: typeof raw === "string" ? raw.replace(/\r?\n/g, "\r\n") : raw });
  } finally {
    lmtp.close();
  }
}

/** Delivers a mail by LMTP with swaks, a mail tool that is not ours. */
export async function swaksDeliver(world: World, args: string[]): Promise<void> {
  const child = spawn("swaks", ["--protocol", "LMTP", "--server", "127.0.0.1", "--port", String(world.dovecot.lmtpPort), "--silent", "2", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`swaks failed (${code}): ${output}`);
}

/** Every mail in a mailbox, parsed, with its flags. */
export async function readMailbox(
  world: Pick<World, "dovecot">,
  user: string,
): Promise<Array<{ uid: number; flags: Set<string>; mail: ParsedMail; raw: Buffer }>> {
  const client = new ImapFlow({
    host: "127.0.0.1",
    port: world.dovecot.imapPort,
    secure: false,
    auth: { user, pass: MAIL_PASSWORD },
    logger: false,
    disableAutoIdle: true,
  });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.mailboxOpen("INBOX", { readOnly: true });
    const found: Array<{ uid: number; flags: Set<string>; raw: Buffer }> = [];
    if (client.mailbox !== false && client.mailbox.exists > 0) {
      for await (const message of client.fetch("1:*", { uid: true, flags: true, source: true })) {
        found.push({ uid: message.uid, flags: message.flags ?? new Set(), raw: message.source ?? Buffer.alloc(0) });
      }
    }
    return Promise.all(found.map(async (entry) => ({ ...entry, mail: await simpleParser(entry.raw) })));
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Polls until `check` passes (bounded). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
