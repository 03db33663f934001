// The mailer's thread (transports/email/smtp-thread.ts) with one fault added: a mail whose subject is
// "crash" throws out of the thread, as a bug in it would, and the thread dies.
import { parentPort } from "node:worker_threads";
import "../../transports/email/smtp-thread.js";

parentPort?.on("message", (message: { kind: string; request?: { mail?: { subject?: unknown } } }) => {
  if (message.kind === "call" && message.request?.mail?.subject === "crash") throw new Error("the thread met a bug");
});
