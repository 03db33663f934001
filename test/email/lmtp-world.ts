// The world of the LMTP tests: a real Prosody and Switchboard whose e-mail transport serves a
// hosted domain over LMTP (no catch-all mailbox), plus LMTP clients: nodemailer, and a raw one that
// writes exactly the bytes a test gives it.
import { connect, type Socket } from "node:net";
import nodemailer from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport/index.js";
import { freePort } from "../../src/trial/ports.js";
import { startHarness, type Harness } from "../support/harness.js";
import { xml, type TestClient } from "../support/xmpp-client.js";
import { EMAIL, FAST, registerEmail } from "./world.js";

export const MAIL_DOMAIN = "mail.example.test";
export const TYBALT = "tybalt@capulet.test";

export interface LmtpWorld {
  h: Harness;
  lmtpPort: number;
  stop(): Promise<void>;
}

export async function startLmtpWorld(
  options: {
    /** The lmtp section beyond its port. */
    lmtp?: Record<string, unknown>;
    /** The transport's config beyond FAST and the hosted section. */
    email?: Record<string, unknown>;
    config?: (config: Record<string, unknown>) => void;
    lmtpPort?: number;
  } = {},
): Promise<LmtpWorld> {
  const lmtpPort = options.lmtpPort ?? (await freePort());
  // Nothing is sent in these tests; the relay only has to be configured.
  const relayPort = await freePort();
  const h = await startHarness({
    ...(options.config && { config: options.config }),
    transports: {
      email: {
        domain: EMAIL,
        options: {
          ...FAST,
          mode: "hosted",
          hosted: {
            domain: MAIL_DOMAIN,
            lmtp: { port: lmtpPort, ...options.lmtp },
            smtp: { host: "127.0.0.1", port: relayPort, security: "none" },
          },
          ...options.email,
        },
      },
    },
  });
  return { h, lmtpPort, stop: () => h.stop() };
}

/** Registers `client` on the hosted domain with the address `local`@MAIL_DOMAIN. */
export async function joinHosted(client: TestClient, local: string): Promise<void> {
  const reply = await registerEmail(client, { address: local });
  if (reply.attrs.type !== "result") throw new Error(`registration of ${local} failed: ${reply.toString()}`);
}

/** A chat command to the e-mail transport; resolves with its answer. */
export async function sayToEmail(client: TestClient, text: string): Promise<string> {
  const answer = client.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === EMAIL && Boolean(stanza.getChildText("body")));
  await client.send(xml("message", { to: EMAIL, type: "chat", id: `cmd-${Math.random().toString(36).slice(2)}` }, xml("body", {}, text)));
  return (await answer).getChildText("body") ?? "";
}

/** One mail by LMTP with nodemailer, as a mail server would hand it over. */
export async function lmtpSend(port: number, from: string, to: string[], raw: string | Buffer): Promise<SMTPTransport.SentMessageInfo> {
  const lmtp = nodemailer.createTransport({ host: "127.0.0.1", port, lmtp: true, secure: false, ignoreTLS: true, socketTimeout: 60_000 });
  try {
    return await lmtp.sendMail({ envelope: { from, to }, raw: typeof raw === "string" ? raw.replace(/\r?\n/g, "\r\n") : raw });
  } finally {
    lmtp.close();
  }
}

/** A mail's text with CRLF line ends. */
export function mailText(headers: Record<string, string>, body: string): string {
  return `${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join("\r\n")}\r\n\r\n${body.replace(/\r?\n/g, "\r\n")}\r\n`;
}

/** An LMTP client that sends exactly what it is given and reads the server's replies line by line. */
export class RawLmtp {
  private buffer = "";
  private lines: string[] = [];
  private waiting: (() => void) | null = null;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      const parts = this.buffer.split("\r\n");
      this.buffer = parts.pop() ?? "";
      this.lines.push(...parts);
      this.waiting?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on("error", () => undefined);
  }

  /** Connects to a port on loopback or a unix socket path, and reads the greeting. */
  static async open(where: number | string): Promise<{ client: RawLmtp; greeting: string }> {
    const socket = typeof where === "number" ? connect(where, "127.0.0.1") : connect(where);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new RawLmtp(socket);
    const [greeting] = await client.replies(1);
    return { client, greeting: greeting! };
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends a command line and reads its (possibly multi-line) reply. */
  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return (await this.replies(1))[0]!;
  }

  /** The next `count` replies, each its last line (multi-line replies are read whole). */
  async replies(count: number, timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const found: string[] = [];
    while (found.length < count) {
      const line = this.lines.shift();
      if (line !== undefined) {
        if (!/^\d{3}-/.test(line)) found.push(line);
        continue;
      }
      if (this.closed) throw new Error(`connection closed after ${found.length} of ${count} replies: ${found.join(" | ")}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${found.length} of ${count} replies: ${found.join(" | ")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiting = () => {
          clearTimeout(timer);
          this.waiting = null;
          resolve();
        };
      });
    }
    return found;
  }

  /** One whole transaction: the replies to MAIL, each RCPT, DATA, and the per-recipient replies. */
  async transaction(from: string, to: string[], raw: string | Buffer): Promise<{ mail: string; rcpt: string[]; data: string; replies: string[] }> {
    const mail = await this.command(`MAIL FROM:<${from}>`);
    const rcpt: string[] = [];
    for (const address of to) rcpt.push(await this.command(`RCPT TO:<${address}>`));
    const data = await this.command("DATA");
    if (!data.startsWith("354")) return { mail, rcpt, data, replies: [] };
    const body = typeof raw === "string" ? Buffer.from(raw.replace(/\r?\n/g, "\r\n"), "latin1") : raw;
    // Dot-stuffing (RFC 5321 4.5.2): a line that starts with "." gets another.
    this.write(Buffer.from(body.toString("latin1").replace(/(^|\r\n)\./g, "$1.."), "latin1"));
    this.write(body.toString("latin1").endsWith("\r\n") ? ".\r\n" : "\r\n.\r\n");
    const accepted = rcpt.filter((reply) => reply.startsWith("250")).length;
    return { mail, rcpt, data, replies: await this.replies(accepted) };
  }

  close(): void {
    this.socket.destroy();
  }
}
