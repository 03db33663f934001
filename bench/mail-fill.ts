// Puts mails straight into a Dovecot mailbox by LMTP, as the recipient's mail server would.
import nodemailer from "nodemailer";
import { inParallel } from "./parallel.js";
import { tokenOf } from "./tally.js";

/** A small, ordinary mail (about 600 bytes) whose body and subject carry the token. */
export function benchMail(to: string, tag: number, index: number): string {
  const token = tokenOf(tag, index);
  return [
    `From: Sender ${index % 50} <sender${index % 50}@elsewhere.test>`,
    `To: ${to}`,
    `Subject: Bench ${token}`,
    `Message-ID: <${token}@elsewhere.test>`,
    `Date: ${new Date().toUTCString()}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    `Bench ${token}`,
    "A short line of text so that the mail has an ordinary body to parse.",
    "",
  ].join("\r\n");
}

export async function fillMailbox(lmtpPort: number, to: string, tag: number, count: number): Promise<void> {
  // One connection per worker, many mails per connection, like an MTA's LMTP client.
  const workers = 8;
  const transports = Array.from({ length: workers }, () =>
    nodemailer.createTransport({
      host: "127.0.0.1",
      port: lmtpPort,
      lmtp: true,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 1,
      maxMessages: Infinity,
    }),
  );
  try {
    await inParallel(count, workers, async (index) => {
      await transports[index % workers]!.sendMail({ envelope: { from: `sender${index % 50}@elsewhere.test`, to: [to] }, raw: benchMail(to, tag, index) });
    });
  } finally {
    for (const transport of transports) transport.close();
  }
}
