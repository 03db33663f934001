// A real SMTP server (the smtp-server package) on a free loopback port that hands every accepted
// mail to Dovecot by LMTP, the way an MTA would. Tests can make it refuse mail (5xx or 4xx) or go
// away and come back on the same port.
import nodemailer from "nodemailer";
import { SMTPServer, type SMTPServerAddress } from "smtp-server";
import { freePort } from "../../src/trial/ports.js";

export interface RelayedMail {
  from: string;
  to: string[];
  raw: Buffer;
  /** The user name the client logged in with, if it did. */
  authUser?: string;
}

export interface SmtpRelayOptions {
  lmtpPort: number;
  /** Mail for any address on a key's domain goes to the mailbox named by its value (a catch-all). */
  catchAll?: Record<string, string>;
  /** Accounts that may log in (user → password); without it any login is accepted. */
  users?: Record<string, string>;
}

interface Refusal {
  code: number;
  message: string;
}

export class SmtpRelay {
  port = 0;
  readonly received: RelayedMail[] = [];
  private server: SMTPServer | null = null;
  private refusal: Refusal | null = null;
  private readonly lmtp;

  constructor(readonly options: SmtpRelayOptions) {
    this.lmtp = nodemailer.createTransport({ host: "127.0.0.1", port: options.lmtpPort, lmtp: true, secure: false, ignoreTLS: true });
  }

  /** Every following mail is refused at RCPT TO with this code and text (550: permanent, 451: temporary). */
  refuse(code: number, message: string): void {
    this.refusal = { code, message };
  }

  accept(): void {
    this.refusal = null;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const server = new SMTPServer({
      secure: false,
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      authOptional: true,
      logger: false,
      onAuth: (auth, _session, callback) => {
        const users = this.options.users;
        if (!users || users[auth.username ?? ""] === auth.password) return callback(null, { user: auth.username });
        const error = Object.assign(new Error("5.7.8 Authentication credentials invalid"), { responseCode: 535 });
        return callback(error);
      },
      onRcptTo: (_address, _session, callback) => {
        if (!this.refusal) return callback();
        return callback(Object.assign(new Error(this.refusal.message), { responseCode: this.refusal.code }));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("error", callback);
        stream.on("end", () => {
          const raw = Buffer.concat(chunks);
          const from = addressOf(session.envelope.mailFrom);
          const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
          this.received.push({ from, to, raw, ...(typeof session.user === "string" && { authUser: session.user }) });
          this.relay(from, to, raw).then(
            () => callback(null),
            (error: Error) =>
              callback(Object.assign(new Error(`4.3.0 could not hand the mail to the mailbox server: ${error.message}`), { responseCode: 451 })),
          );
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    server.on("error", () => undefined);
    this.server = server;
  }

  /** Closes the port: clients get "connection refused" until start() again. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits until `count` mails have been accepted in all. */
  async waitForMail(count: number, timeoutMs = 10_000): Promise<RelayedMail> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} relayed mails, have ${this.received.length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.received[count - 1]!;
  }

  private async relay(from: string, to: string[], raw: Buffer): Promise<void> {
    const direct: string[] = [];
    for (const address of to) {
      const mailbox = this.options.catchAll?.[address.split("@").pop()?.toLowerCase() ?? ""];
      if (!mailbox) {
        direct.push(address);
        continue;
      }
      // Like Postfix with a virtual catch-all: one copy per recipient, saying whom it was for.
      await this.lmtp.sendMail({ envelope: { from, to: [mailbox] }, raw: Buffer.concat([Buffer.from(`X-Original-To: ${address}\r\n`), raw]) });
    }
    if (direct.length > 0) await this.lmtp.sendMail({ envelope: { from, to: direct }, raw });
  }
}

function addressOf(address: SMTPServerAddress | false): string {
  return address ? address.address : "";
}
