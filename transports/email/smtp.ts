// Mail out through nodemailer, on a thread of its own (smtp-thread.ts): one pooled connection set
// per SMTP account; the server's answer decides whether a failure is final (5xx: back to the
// sender with the server's words) or temporary (4xx, no connection: the outbox tries again later).
import { createHash } from "node:crypto";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import type Mail from "nodemailer/lib/mailer/index.js";
import type { Logger } from "pino";
import { GatewayError } from "../../src/transport/index.js";
import type { SendResult } from "../../src/transport/contract.js";
import type { ServerLogin } from "./account.js";
import type { EmailConfig } from "./config.js";
import { serverTarget, type ServerTarget } from "./server-guard.js";
import { threadCalls } from "../../src/transport/thread-calls.js";
import type { SmtpFailure, SmtpForget, SmtpPoolError, SmtpSend } from "./smtp-thread.js";

export interface Mailer {
  send(login: ServerLogin, mail: Mail.Options): Promise<SendResult>;
  /** Connects and logs in; throws a GatewayError naming the server when it cannot, or when it
   *  takes mail without a login (then anyone could send as the user through it). */
  verify(login: ServerLogin): Promise<void>;
  /** Drops the pooled connections of an account (after its password changed or it left). */
  forget(login: ServerLogin): void;
  close(): void;
}

/** `thread` is the sending thread's code: smtp-thread.js, or in tests a wrapper of it. */
export function createMailer(config: EmailConfig, log: Logger, thread = new URL("./smtp-thread.js", import.meta.url)): Mailer {
  /** Holds one pool per account, aimed at the address its server had when the pool opened. If it
   *  dies, the mails it held fail as temporary (the outbox sends them again), and the next mail
   *  starts a new thread. */
  const sender = threadCalls<SmtpSend, SmtpFailure | undefined>(thread, {
    name: "the mail sending thread",
    log,
    onNote(note) {
      const { host, message } = note as SmtpPoolError;
      log.debug({ smtp: host, err: message }, "smtp pool error");
    },
  });

  const keyOf = (login: ServerLogin): string =>
    createHash("sha256")
      .update([login.host, login.port, login.security, login.user ?? "", login.password ?? ""].join("\u0000"))
      .digest("base64url");

  const connection = (login: ServerLogin, target: ServerTarget): SMTPConnection.Options => ({
    host: target.host,
    port: login.port,
    secure: login.security === "tls",
    requireTLS: login.security === "starttls",
    ignoreTLS: login.security === "none",
    // The certificate is checked against the name the user gave, not the address connected to.
    ...(target.servername && { servername: target.servername }),
    tls: { rejectUnauthorized: config.verifyCertificates, ...(target.servername && { servername: target.servername }) },
    connectionTimeout: config.smtp.timeoutMs,
    greetingTimeout: config.smtp.timeoutMs,
    socketTimeout: config.smtp.timeoutMs * 2,
    // nodemailer's own logging would print message contents at debug level.
    logger: false,
  });

  const options = (login: ServerLogin, target: ServerTarget): SMTPPool.Options => ({
    ...connection(login, target),
    ...(login.user && { auth: { user: login.user, pass: login.password ?? "" } }),
    pool: true,
    maxConnections: config.smtp.maxConnections,
  });

  return {
    async send(login, mail) {
      let target: ServerTarget;
      try {
        // Resolved and checked before every mail: the name may point elsewhere since registration.
        target = await serverTarget(login, config, "SMTP server");
      } catch (error) {
        const refused = error as GatewayError;
        return refused.code === "private-address" ? { kind: "permanent", reason: refused.message } : { kind: "temporary", reason: refused.message };
      }
      const failure = await sender
        .call({ pool: keyOf(login), options: options(login, target), mail })
        // The thread stopped, or the mail could not be copied to it: not sent, so temporary.
        .catch((error: Error): SmtpFailure => ({ code: "ETHREAD", message: error.message }));
      return failure ? classify(login, failure) : { kind: "accepted", providerId: String(mail.messageId) };
    },
    async verify(login) {
      const target = await serverTarget(login, config, "SMTP server");
      const where = `The SMTP server ${login.host}:${login.port}`;
      const once = new SMTPConnection(connection(login, target));
      try {
        await new Promise<void>((resolve, reject) => {
          once.once("error", reject);
          once.once("end", () => reject(new Error("the server closed the connection")));
          once.connect((error) => (error ? reject(error) : resolve()));
        });
        // nodemailer skips the login when the server offers none, and the mail would go out unchecked.
        if (login.user && !once.allowsAuth) {
          throw new GatewayError(
            "not-acceptable",
            `${where} does not ask for a login (it offers no AUTH), so it would send mail as anyone; give the server where you log in to send mail (often port 587 with STARTTLS).`,
            {
              code: "smtp-no-auth",
            },
          );
        }
        if (login.user) {
          await new Promise<void>((resolve, reject) =>
            once.login({ user: login.user, pass: login.password ?? "" }, (error) => (error ? reject(error) : resolve())),
          );
        }
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        const failure = error as SmtpFailure;
        if (failure.code === "EAUTH") {
          throw new GatewayError(
            "not-authorized",
            `${where} refused the login for ${login.user ?? ""}: ${failure.response ?? "wrong user name or password"}.`,
            { code: "smtp-auth", cause: error },
          );
        }
        throw new GatewayError(
          "remote-server-not-found",
          `${where} could not be used: ${failure.response ?? failure.message ?? failure.code ?? "no answer"}. Check the server name, port and security setting.`,
          {
            code: "smtp-unreachable",
            cause: error,
          },
        );
      } finally {
        once.removeAllListeners("end");
        once.on("error", () => undefined);
        once.quit();
      }
    },
    forget(login) {
      sender.tell({ forget: keyOf(login) } satisfies SmtpForget);
    },
    close() {
      sender.close();
    },
  };
}

/** 5xx is the server's final word; everything else may work later. */
export function classify(login: Pick<ServerLogin, "host">, failure: SmtpFailure): SendResult {
  const reply = (failure.response ?? failure.message ?? "").replace(/\s+/g, " ").trim();
  const code = failure.responseCode;
  if (code !== undefined && code >= 500 && code < 600) {
    return { kind: "permanent", reason: `The mail server ${login.host} refused this message: ${reply || code}`, providerCode: String(code) };
  }
  if (code !== undefined && code >= 400)
    return { kind: "temporary", reason: `The mail server ${login.host} asked to try later: ${reply || code}`, providerCode: String(code) };
  // nodemailer's own codes for a failed connection: ECONNECTION, ETIMEDOUT, ESOCKET, EDNS...
  return {
    kind: "temporary",
    reason: `Could not reach the mail server ${login.host}: ${reply || failure.code || "no answer"}`,
    providerCode: failure.code ?? "unreachable",
  };
}
