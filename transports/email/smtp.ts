// Mail out through nodemailer: one pooled connection set per SMTP account; the server's answer
// decides whether a failure is final (5xx: back to the sender with the server's words) or
// temporary (4xx, no connection: the outbox tries again later).
import { createHash } from "node:crypto";
import nodemailer, { type Transporter } from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import type Mail from "nodemailer/lib/mailer/index.js";
import type { Logger } from "pino";
import { GatewayError } from "../../src/errors.js";
import type { SendResult } from "../../src/transport/contract.js";
import type { ServerLogin } from "./account.js";
import type { EmailConfig } from "./config.js";

export interface Mailer {
  send(login: ServerLogin, mail: Mail.Options): Promise<SendResult>;
  /** Connects and logs in; throws a GatewayError naming the server when it cannot. */
  verify(login: ServerLogin): Promise<void>;
  /** Drops the pooled connections of an account (after its password changed or it left). */
  forget(login: ServerLogin): void;
  close(): void;
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

export function createMailer(config: EmailConfig, log: Logger): Mailer {
  const pools = new Map<string, Transporter>();

  const keyOf = (login: ServerLogin): string =>
    createHash("sha256").update([login.host, login.port, login.security, login.user ?? "", login.password ?? ""].join("\u0000")).digest("base64url");

  const options = (login: ServerLogin, pool: boolean): SMTPPool.Options => ({
    host: login.host,
    port: login.port,
    secure: login.security === "tls",
    requireTLS: login.security === "starttls",
    ignoreTLS: login.security === "none",
    ...(login.user && { auth: { user: login.user, pass: login.password ?? "" } }),
    tls: { rejectUnauthorized: config.verifyCertificates },
    connectionTimeout: config.smtp.timeoutMs,
    greetingTimeout: config.smtp.timeoutMs,
    socketTimeout: config.smtp.timeoutMs * 2,
    pool: pool as true,
    maxConnections: config.smtp.maxConnections,
    // nodemailer's own logging would print message contents at debug level.
    logger: false,
  });

  const transporter = (login: ServerLogin): Transporter => {
    const key = keyOf(login);
    let found = pools.get(key);
    if (!found) {
      found = nodemailer.createTransport(options(login, true));
      found.on("error", (error: Error) => log.debug({ smtp: login.host, err: error }, "smtp pool error"));
      pools.set(key, found);
    }
    return found;
  };

  return {
    async send(login, mail) {
      try {
        await transporter(login).sendMail(mail);
        return { kind: "accepted", providerId: String(mail.messageId) };
      } catch (error) {
        return classify(login, error as SmtpFailure);
      }
    },
    async verify(login) {
      const once = nodemailer.createTransport({ ...options(login, false), pool: false } as Parameters<typeof nodemailer.createTransport>[0]);
      try {
        await once.verify();
      } catch (error) {
        const failure = error as SmtpFailure;
        const where = `The SMTP server ${login.host}:${login.port}`;
        if (failure.code === "EAUTH") {
          throw new GatewayError("not-authorized", `${where} refused the login for ${login.user ?? ""}: ${failure.response ?? "wrong user name or password"}.`, { code: "smtp-auth", cause: error });
        }
        throw new GatewayError("remote-server-not-found", `${where} could not be used: ${failure.response ?? failure.message ?? failure.code ?? "no answer"}. Check the server name, port and security setting.`, {
          code: "smtp-unreachable",
          cause: error,
        });
      } finally {
        once.close();
      }
    },
    forget(login) {
      const key = keyOf(login);
      pools.get(key)?.close();
      pools.delete(key);
    },
    close() {
      for (const pool of pools.values()) pool.close();
      pools.clear();
    },
  };
}

/** 5xx is the server's final word; everything else may work later. */
export function classify(login: Pick<ServerLogin, "host">, failure: SmtpFailure): SendResult {
  const reply = (failure.response ?? failure.message ?? "").replace(/\s+/g, " ").trim();
  const code = failure.responseCode;
  if (code !== undefined && code >= 500 && code < 600) {
    return { kind: "permanent", reason: `The mail server ${login.host} refused this message: ${reply || code}` };
  }
  if (code !== undefined && code >= 400) return { kind: "temporary", reason: `The mail server ${login.host} asked to try later: ${reply || code}` };
  return { kind: "temporary", reason: `Could not reach the mail server ${login.host}: ${reply || failure.code || "no answer"}` };
}
