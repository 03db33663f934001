// The SMTP conversations, on a thread of their own: each reply of a mail server is read by this
// thread's event loop, which nothing else keeps busy, so a mail's round trips do not wait behind the
// gateway's own work (stanzas, commits to the store). The main thread sends it each mail, composed
// and with its server already resolved and checked, and gets back the server's answer.
import nodemailer, { type Transporter } from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import type Mail from "nodemailer/lib/mailer/index.js";
import { parentPort } from "node:worker_threads";

export type ToSmtpThread =
  | { kind: "send"; id: number; pool: string; options: SMTPPool.Options; mail: Mail.Options }
  | { kind: "forget"; pool: string }
  | { kind: "close" };

/** The fields of a nodemailer error the gateway reads (what classify() needs). */
export interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

export type FromSmtpThread =
  | { kind: "sent"; id: number }
  | { kind: "failed"; id: number; failure: SmtpFailure }
  | { kind: "pool-error"; host: string; message: string };

const port = parentPort;
if (!port) throw new Error("smtp-thread.js runs as a worker thread");

/** One pool per account and server address; a pool whose address changed is replaced. */
const pools = new Map<string, { host: string; transporter: Transporter }>();

const post = (message: FromSmtpThread): void => port.postMessage(message);

const transporter = (pool: string, options: SMTPPool.Options): Transporter => {
  const found = pools.get(pool);
  if (found && found.host === options.host) return found.transporter;
  found?.transporter.close();
  const created = nodemailer.createTransport(options);
  created.on("error", (error: Error) => post({ kind: "pool-error", host: String(options.host), message: error.message }));
  pools.set(pool, { host: String(options.host), transporter: created });
  return created;
};

/** Attachments cross the thread boundary as Uint8Arrays; nodemailer wants Buffers. */
const withBuffers = (mail: Mail.Options): Mail.Options => {
  if (!mail.attachments?.length) return mail;
  const attachments = mail.attachments.map((attachment) => {
    const content: unknown = attachment.content;
    return content instanceof Uint8Array && !Buffer.isBuffer(content)
      ? { ...attachment, content: Buffer.from(content.buffer, content.byteOffset, content.byteLength) }
      : attachment;
  });
  return { ...mail, attachments };
};

const failureOf = (error: SmtpFailure): SmtpFailure => ({
  ...(error.code !== undefined && { code: String(error.code) }),
  ...(typeof error.responseCode === "number" && { responseCode: error.responseCode }),
  ...(error.response !== undefined && { response: String(error.response) }),
  ...(error.message !== undefined && { message: String(error.message) }),
});

const send = (message: Extract<ToSmtpThread, { kind: "send" }>): void => {
  let sending: Promise<unknown>;
  try {
    sending = transporter(message.pool, message.options).sendMail(withBuffers(message.mail));
  } catch (error) {
    // A mail or an option nodemailer refuses at once fails alone; the thread goes on.
    sending = Promise.reject(error);
  }
  sending.then(
    () => post({ kind: "sent", id: message.id }),
    (error: SmtpFailure) => post({ kind: "failed", id: message.id, failure: failureOf(error ?? {}) }),
  );
};

port.on("message", (message: ToSmtpThread) => {
  switch (message.kind) {
    case "send":
      send(message);
      break;
    case "forget":
      pools.get(message.pool)?.transporter.close();
      pools.delete(message.pool);
      break;
    case "close":
      for (const pool of pools.values()) pool.transporter.close();
      pools.clear();
      port.close();
      break;
  }
});
