// The main thread's side of smtp-thread.ts: starts the thread when the first mail goes out, hands it
// each mail, and answers each send with the server's verdict. If the thread dies, the mails it held
// fail as temporary (the outbox sends them again) and the next mail starts a new thread.
import { Worker } from "node:worker_threads";
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import type Mail from "nodemailer/lib/mailer/index.js";
import type { Logger } from "pino";
import type { FromSmtpThread, SmtpFailure, ToSmtpThread } from "./smtp-thread.js";

export interface SmtpThread {
  /** Resolves with undefined once the server accepted the mail, or with what went wrong. */
  send(pool: string, options: SMTPPool.Options, mail: Mail.Options): Promise<SmtpFailure | undefined>;
  /** Closes one account's pooled connections. */
  forget(pool: string): void;
  close(): void;
}

/** `script` is the thread's code: smtp-thread.js, or in tests a wrapper of it. */
export function smtpThread(log: Logger, script = new URL("./smtp-thread.js", import.meta.url)): SmtpThread {
  let worker: Worker | undefined;
  let nextId = 1;
  const waiting = new Map<number, (failure: SmtpFailure | undefined) => void>();

  const settle = (id: number, failure: SmtpFailure | undefined): void => {
    const resolve = waiting.get(id);
    if (!resolve) return;
    waiting.delete(id);
    // An idle thread must not keep the process alive.
    if (waiting.size === 0) worker?.unref();
    resolve(failure);
  };

  const stopped = (from: Worker, why: string): void => {
    if (worker !== from) return;
    worker = undefined;
    for (const id of [...waiting.keys()]) settle(id, { code: "ETHREAD", message: why });
  };

  const start = (): Worker => {
    const started = new Worker(script);
    started.unref();
    started.on("message", (message: FromSmtpThread) => {
      if (message.kind === "pool-error") log.debug({ smtp: message.host, err: message.message }, "smtp pool error");
      else settle(message.id, message.kind === "failed" ? message.failure : undefined);
    });
    started.on("error", (error) => {
      log.error({ err: error }, "the mail sending thread failed; its mails will be sent again");
      stopped(started, `the mail sending thread failed: ${error.message}`);
    });
    started.on("exit", () => stopped(started, "the mail sending thread stopped"));
    return started;
  };

  const post = (message: ToSmtpThread): void => worker?.postMessage(message);

  return {
    send(pool, options, mail) {
      worker ??= start();
      const id = nextId++;
      if (waiting.size === 0) worker.ref();
      const answer = new Promise<SmtpFailure | undefined>((resolve) => waiting.set(id, resolve));
      try {
        post({ kind: "send", id, pool, options, mail });
      } catch (error) {
        // A value that cannot be copied to the thread (none of the gateway's mails holds one).
        settle(id, { code: "ECOPY", message: (error as Error).message });
      }
      return answer;
    },
    forget(pool) {
      post({ kind: "forget", pool });
    },
    close() {
      post({ kind: "close" });
      worker = undefined;
      for (const id of [...waiting.keys()]) settle(id, { code: "ESTOP", message: "the gateway is stopping" });
    },
  };
}
