// Baseline for e-mail → XMPP: imapflow alone fetching the same mailbox and parsing each mail with
// mailparser (what the gateway's transport uses), read-only so the mailbox stays as it was.
import { ImapFlow } from "imapflow";
import { simpleParser } from "mailparser";
import { nowMs } from "../stats.js";
import { TOKEN } from "../tally.js";
import { cpuMs, inputOf, report } from "./input.js";

const input = inputOf<{ port: number; user: string; password: string }>();
const cpuAtStart = cpuMs();
const startedAt = nowMs();
const client = new ImapFlow({
  host: "127.0.0.1",
  port: input.port,
  secure: false,
  auth: { user: input.user, pass: input.password },
  logger: false,
  disableAutoIdle: true,
});
client.on("error", () => undefined);
await client.connect();
await client.mailboxOpen("INBOX", { readOnly: true });
const tokens = new Set<string>();
let fetched = 0;
for await (const message of client.fetch("1:*", { uid: true, source: true })) {
  fetched += 1;
  const mail = await simpleParser(message.source ?? Buffer.alloc(0));
  const token = TOKEN.exec(mail.text ?? "")?.[0];
  if (token) tokens.add(token);
}
const finishedAt = nowMs();
await client.logout().catch(() => client.close());
report({ startedAt, finishedAt, fetched, distinct: tokens.size, cpuMs: cpuMs() - cpuAtStart });
