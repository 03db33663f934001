// An SMTP server (the smtp-server package) that accepts every mail and only notes when it came.
// The tests' SmtpRelay also hands each mail to Dovecot by LMTP; here that would put Dovecot's disk
// writes in both the gateway's and the baseline's path and hide the gateway's own cost.
import { SMTPServer } from "smtp-server";
import { freePort } from "../src/trial/ports.js";
import { nowMs } from "./stats.js";

export class SmtpSink {
  port = 0;
  accepted = 0;
  /** Told of each accepted mail with its raw text (latin1 is enough to find a token). */
  onMail: (raw: string, at: number) => void = () => undefined;
  private server: SMTPServer | null = null;

  async start(): Promise<void> {
    this.port = await freePort();
    const server = new SMTPServer({
      secure: false,
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      authOptional: true,
      logger: false,
      // Users' own SMTP accounts log in; any login is good here.
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
      onData: (stream, _session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("error", callback);
        stream.on("end", () => {
          this.accepted += 1;
          this.onMail(Buffer.concat(chunks).toString("latin1"), nowMs());
          callback(null);
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
  }
}
