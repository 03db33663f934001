// Mail goes out on the mailer's own thread (transports/email/smtp-thread.ts): what crosses to it and
// back must arrive whole, and a mail the thread still held when it stopped must come back as
// temporary, so the outbox sends it again.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { simpleParser } from "mailparser";
import { pino } from "pino";
import { SMTPServer } from "smtp-server";
import { freePort } from "../../src/trial/ports.js";
import { emailConfigSchema } from "../../transports/email/config.js";
import { createMailer } from "../../transports/email/smtp.js";
import { until } from "../support/wait.js";
import { FAST } from "./world.js";

const received: Buffer[] = [];
/** While set, the server reads a mail's DATA and does not answer it until this is called. */
let holding: Array<() => void> | null = null;
let port = 0;
const server = new SMTPServer({
  secure: false,
  disabledCommands: ["STARTTLS"],
  authOptional: true,
  logger: false,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      received.push(Buffer.concat(chunks));
      if (holding) holding.push(() => callback(null));
      else callback(null);
    });
  },
});

const login = (): { host: string; port: number; security: "none" } => ({ host: "127.0.0.1", port, security: "none" });

before(async () => {
  port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test("a mail with a binary attachment reaches the SMTP server byte for byte, and the answer names its Message-ID", async () => {
  const mailer = createMailer(emailConfigSchema.parse(FAST), pino({ level: "silent" }));
  try {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_unused, index) => (index * 7) % 256));
    const before = received.length;
    const result = await mailer.send(login(), {
      from: "juliet@capulet.test",
      to: "romeo@montague.test",
      subject: "Ünïcode ✉ subject",
      text: "see attached",
      messageId: "<thread-1@gw.test>",
      attachments: [{ filename: "bytes.bin", content: bytes, contentType: "application/octet-stream" }],
    });
    assert.deepEqual(result, { kind: "accepted", providerId: "<thread-1@gw.test>" });
    assert.equal(received.length, before + 1);
    const parsed = await simpleParser(received[before]!);
    assert.equal(parsed.subject, "Ünïcode ✉ subject");
    assert.equal(parsed.attachments.length, 1);
    assert.equal(parsed.attachments[0]!.filename, "bytes.bin");
    assert.ok(parsed.attachments[0]!.content.equals(bytes), "the attachment's bytes arrive unchanged");
  } finally {
    mailer.close();
  }
});

test("a mail still unanswered when the mailer closes is temporary, and a mailer closed and used again sends", async () => {
  const mailer = createMailer(emailConfigSchema.parse(FAST), pino({ level: "silent" }));
  const held: Array<() => void> = [];
  holding = held;
  try {
    const before = received.length;
    const pending = mailer.send(login(), {
      from: "juliet@capulet.test",
      to: "romeo@montague.test",
      subject: "x",
      text: "held",
      messageId: "<thread-2@gw.test>",
    });
    assert.ok(await until(() => received.length > before, 10_000), "the server read the held mail");
    mailer.close();
    const result = await pending;
    assert.equal(result.kind, "temporary");
    assert.match(result.kind === "temporary" ? result.reason : "", /127\.0\.0\.1: the gateway is stopping/);
  } finally {
    holding = null;
    for (const answer of held) answer();
  }
  const again = await mailer.send(login(), {
    from: "juliet@capulet.test",
    to: "romeo@montague.test",
    subject: "x",
    text: "after",
    messageId: "<thread-3@gw.test>",
  });
  assert.deepEqual(again, { kind: "accepted", providerId: "<thread-3@gw.test>" });
  mailer.close();
});

test("when the thread dies, the mails it held come back temporary and the next mail starts a new thread", async () => {
  const mailer = createMailer(emailConfigSchema.parse(FAST), pino({ level: "silent" }), new URL("../support/crashing-smtp-thread.js", import.meta.url));
  const mail = (subject: string, text: string) => ({ from: "juliet@capulet.test", to: "romeo@montague.test", subject, text, messageId: `<${text}@gw.test>` });
  const held: Array<() => void> = [];
  holding = held;
  try {
    const before = received.length;
    const waiting = mailer.send(login(), mail("x", "held"));
    assert.ok(await until(() => received.length > before, 10_000), "the server read the held mail");
    const crashing = await mailer.send(login(), mail("crash", "x"));
    assert.equal(crashing.kind, "temporary");
    assert.match(crashing.kind === "temporary" ? crashing.reason : "", /the mail sending thread failed: the thread met a bug/);
    const heldBack = await waiting;
    assert.equal(heldBack.kind, "temporary");
    assert.equal(heldBack.kind === "temporary" ? heldBack.providerCode : "", "ETHREAD");
  } finally {
    holding = null;
    for (const answer of held) answer();
  }
  assert.deepEqual(await mailer.send(login(), mail("x", "after")), { kind: "accepted", providerId: "<after@gw.test>" });
  mailer.close();
});

test("a gateway that closes its mailer while a server holds a mail is not kept alive by the thread", async () => {
  const held: Array<() => void> = [];
  holding = held;
  const before = received.length;
  const smtp = new URL("../../transports/email/smtp.js", import.meta.url).href;
  const config = new URL("../../transports/email/config.js", import.meta.url).href;
  // The child sends one mail, closes the mailer once the server has read it, and has nothing else to do.
  const script = `
    import { createMailer } from ${JSON.stringify(smtp)};
    import { emailConfigSchema } from ${JSON.stringify(config)};
    const mailer = createMailer(emailConfigSchema.parse(${JSON.stringify(FAST)}), { debug() {}, error() {} });
    const sending = mailer.send({ host: "127.0.0.1", port: ${port}, security: "none" }, { from: "a@b.test", to: "c@d.test", subject: "x", text: "x", messageId: "<child@gw.test>" });
    process.stdin.once("data", () => mailer.close());
    sending.then((result) => console.log(result.kind, result.reason ?? ""));
  `;
  // A file, not --eval: the thread inherits the process's node options, and --input-type is not one
  // a thread may have.
  const file = join(await mkdtemp(join(tmpdir(), "smtp-thread-")), "child.mjs");
  await writeFile(file, script);
  const child = spawn(process.execPath, [file], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let errors = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    assert.ok(await until(() => received.length > before, 10_000), `the server read the child's mail ${output} ${errors}`);
    child.stdin.end("close\n");
    const code = await Promise.race([exited, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 10_000))]);
    assert.equal(code, 0, "the child exited by itself while the server still held its mail");
    assert.match(output, /^temporary .*the gateway is stopping/);
  } finally {
    child.kill();
    holding = null;
    for (const answer of held) answer();
  }
});
