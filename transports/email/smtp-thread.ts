// The SMTP conversations, on a thread of their own: each reply of a mail server is read by this
// thread's event loop, which nothing else keeps busy, so a mail's round trips do not wait behind the
// gateway's own work (stanzas, commits to the store). The main thread sends it each mail, composed
// and with its server already resolved and checked, and gets back the server's answer.
import nodemailer, { type Transporter } from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import type Mail from "nodemailer/lib/mailer/index.js";
import { serveCalls } from "../../src/transport/thread-serve.js";

export interface SmtpSend {
  /** The account's pool. */
  pool: string;
  options: SMTPPool.Options;
  mail: Mail.Options;
}

/** Closes one account's pooled connections. */
export interface SmtpForget {
  forget: string;
}

/** The fields of a nodemailer error the gateway reads (what classify() needs). */
export interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

export interface SmtpPoolError {
  host: string;
  message: string;
}

/** One pool per account and server address; a pool whose address changed is replaced. */
const pools = new Map<string, { host: string; transporter: Transporter }>();

const transporter = (pool: string, options: SMTPPool.Options): Transporter => {
  const found = pools.get(pool);
  if (found && found.host === options.host) return found.transporter;
  found?.transporter.close();
  const created = nodemailer.createTransport(options);
  created.on("error", (error: Error) => thread.note({ host: String(options.host), message: error.message } satisfies SmtpPoolError));
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

const thread = serveCalls<SmtpSend, SmtpFailure | undefined>({
  async answer({ pool, options, mail }) {
    try {
      await transporter(pool, options).sendMail(withBuffers(mail));
      return undefined;
    } catch (error) {
      return failureOf((error ?? {}) as SmtpFailure);
    }
  },
  hear(note) {
    const pool = (note as SmtpForget).forget;
    pools.get(pool)?.transporter.close();
    pools.delete(pool);
  },
  close() {
    for (const pool of pools.values()) pool.transporter.close();
    pools.clear();
  },
});
