// Baseline for XMPP → e-mail: nodemailer alone sending the same mails to the same SMTP server,
// pooled and logged in like the gateway's per-account transport.
import nodemailer from "nodemailer";
import { nowMs } from "../stats.js";
import { tokenOf } from "../tally.js";
import { inParallel } from "../parallel.js";
import { cpuMs, inputOf, report } from "./input.js";

const input = inputOf<{ port: number; from: string; peers: string[]; count: number; tag: number; concurrency: number; maxConnections: number }>();
const transport = nodemailer.createTransport({
  host: "127.0.0.1",
  port: input.port,
  secure: false,
  ignoreTLS: true,
  auth: { user: input.from, pass: "bench" },
  pool: true,
  maxConnections: input.maxConnections,
  logger: false,
});
const cpuAtStart = cpuMs();
const startedAt = nowMs();
let failed = 0;
await inParallel(input.count, input.concurrency, async (index) => {
  try {
    await transport.sendMail({
      from: input.from,
      to: input.peers[index % input.peers.length]!,
      subject: "Message from Jabber",
      text: `Bench ${tokenOf(input.tag, index)}`,
    });
  } catch {
    failed += 1;
  }
});
transport.close();
report({ startedAt, finishedAt: nowMs(), failed, cpuMs: cpuMs() - cpuAtStart });
