// The main thread's side of smtp-thread.ts: hands the thread each mail and answers each send with
// the server's verdict. If the thread dies, the mails it held fail as temporary (the outbox sends
// them again) and the next mail starts a new thread.
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import type Mail from "nodemailer/lib/mailer/index.js";
import type { Logger } from "pino";
import { threadCalls } from "../../src/transport/thread-calls.js";
import type { SmtpFailure, SmtpForget, SmtpPoolError, SmtpSend } from "./smtp-thread.js";

export interface SmtpThread {
  /** Resolves with undefined once the server accepted the mail, or with what went wrong. */
  send(pool: string, options: SMTPPool.Options, mail: Mail.Options): Promise<SmtpFailure | undefined>;
  /** Closes one account's pooled connections. */
  forget(pool: string): void;
  close(): void;
}

/** `script` is the thread's code: smtp-thread.js, or in tests a wrapper of it. */
export function smtpThread(log: Logger, script = new URL("./smtp-thread.js", import.meta.url)): SmtpThread {
  const thread = threadCalls<SmtpSend, SmtpFailure | undefined>(script, {
    name: "the mail sending thread",
    log,
    onNote(note) {
      const { host, message } = note as SmtpPoolError;
      log.debug({ smtp: host, err: message }, "smtp pool error");
    },
  });
  return {
    send(pool, options, mail) {
      // The thread stopped, or the mail could not be copied to it: not sent, so temporary.
      return thread.call({ pool, options, mail }).catch((error: Error) => ({ code: "ETHREAD", message: error.message }));
    },
    forget(pool) {
      thread.tell({ forget: pool } satisfies SmtpForget);
    },
    close() {
      thread.close();
    },
  };
}
