// The trial's outgoing mail server: SMTP submission on loopback (the smtp-server package) for the
// trial's mailboxes, delivering into the local Dovecot by LMTP as an MTA would. It relays nowhere
// else: mail for any other domain is refused, so a trial cannot send mail out to the world.
import nodemailer from "nodemailer";
import { SMTPServer } from "smtp-server";
import { freePort } from "./ports.js";

export class TrialSubmission {
  port = 0;
  private server: SMTPServer | null = null;
  private readonly lmtp;

  /** `accounts`: address → password, the same as the mailboxes'. */
  constructor(private readonly options: { lmtpPort: number; domain: string; accounts: Record<string, string>; port?: number }) {
    this.lmtp = nodemailer.createTransport({ host: "127.0.0.1", port: options.lmtpPort, lmtp: true, secure: false, ignoreTLS: true });
  }

  async start(): Promise<void> {
    this.port = this.options.port ?? (await freePort());
    const { accounts, domain } = this.options;
    const server = new SMTPServer({
      secure: false,
      // Loopback only, and the trial's passwords are printed on its banner anyway.
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      logger: false,
      size: 25 * 1024 * 1024,
      onAuth: (auth, _session, callback) => {
        const user = (auth.username ?? "").toLowerCase();
        const address = user.includes("@") ? user : `${user}@${domain}`;
        if (accounts[address] !== undefined && accounts[address] === auth.password) return callback(null, { user: address });
        return callback(Object.assign(new Error("5.7.8 Authentication credentials invalid"), { responseCode: 535 }));
      },
      onRcptTo: (address, _session, callback) => {
        if (accounts[address.address.toLowerCase()] !== undefined) return callback();
        return callback(
          Object.assign(new Error(`5.1.1 The trial delivers only to its own mailboxes (${Object.keys(accounts).join(", ")})`), { responseCode: 550 }),
        );
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("error", callback);
        stream.on("end", () => {
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
          const to = session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase());
          this.lmtp.sendMail({ envelope: { from, to }, raw: Buffer.concat(chunks) }).then(
            () => callback(null),
            (error: Error) => callback(Object.assign(new Error(`4.3.0 The mailbox server did not take the mail: ${error.message}`), { responseCode: 451 })),
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

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.lmtp.close();
  }
}
