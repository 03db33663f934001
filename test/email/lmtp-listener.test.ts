// The LMTP listener on its own, over real sockets: who may connect, a unix socket with the
// permissions asked for, and a stop that lets the mails being stored finish before it closes.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import type { BareJid } from "../../src/transport/index.js";
import { freePort } from "../../src/trial/ports.js";
import { emailConfigSchema, type LmtpConfig } from "../../transports/email/config.js";
import { LmtpListener } from "../../transports/email/lmtp.js";
import { LMTP_REPLY, type LmtpEnvelope, type LmtpReply } from "../../transports/email/lmtp-mail.js";
import { mailText, RawLmtp } from "./lmtp-world.js";

const dir = mkdtempSync(join(tmpdir(), "switchboard-lmtp-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const log = pino({ level: "silent" });

/** The lmtp section as the config parser fills it in. */
function lmtpConfig(section: Record<string, unknown>): LmtpConfig {
  const parsed = emailConfigSchema.parse({
    mode: "hosted",
    hosted: { domain: "mail.example.test", lmtp: section, smtp: { host: "127.0.0.1" } },
  });
  return parsed.hosted!.lmtp!;
}

function listener(config: LmtpConfig, take: (envelope: LmtpEnvelope, source: Buffer) => Promise<LmtpReply[]>): LmtpListener {
  return new LmtpListener({
    config,
    maxMessageBytes: 1024 * 1024,
    name: "mail.example.test",
    log,
    owner: async (address) => (address.startsWith("juliet@") ? ("juliet@example.test" as BareJid) : undefined),
    take,
  });
}

const stored = async (envelope: LmtpEnvelope): Promise<LmtpReply[]> => envelope.recipients.map(() => LMTP_REPLY.stored);

test("the config takes host:port or a socket, not both, and allowFrom entries must be addresses or ranges", () => {
  assert.equal(lmtpConfig({ port: 2424 }).host, "127.0.0.1");
  assert.deepEqual(lmtpConfig({ port: 2424 }).allowFrom, ["127.0.0.0/8", "::1/128"]);
  assert.equal(lmtpConfig({ socket: "/run/switchboard/lmtp.sock" }).socketMode, "0660");
  assert.throws(() => lmtpConfig({ port: 2424, socket: "/run/x.sock" }), /either port \(with host\) or socket/);
  assert.throws(() => lmtpConfig({}), /either port \(with host\) or socket/);
  assert.throws(() => lmtpConfig({ socket: "relative.sock" }), /absolute path/);
  assert.throws(() => lmtpConfig({ port: 2424, allowFrom: ["10.0.0.0/33"] }), /IP address or a CIDR range/);
  assert.throws(
    () =>
      emailConfigSchema.parse({
        mode: "hosted",
        hosted: {
          domain: "mail.example.test",
          lmtp: { port: 2424 },
          imap: { host: "imap.example.test", user: "catchall", password: "x" },
          smtp: { host: "127.0.0.1" },
        },
      }),
    /either by imap .* or by lmtp/,
  );
});

test("a client outside allowFrom is turned away with 421 before it can say anything", async () => {
  const port = await freePort();
  const server = listener(lmtpConfig({ port, allowFrom: ["10.0.0.0/8", "192.0.2.7"] }), stored);
  await server.start();
  try {
    const { client, greeting } = await RawLmtp.open(port);
    assert.match(greeting, /^421 4\.7\.0 This client may not hand mail to the gateway/);
    client.close();
  } finally {
    await server.stop();
  }
});

test("on a unix socket the listener takes mail with the file permissions asked for, and removes the socket when it stops", async () => {
  const socket = join(dir, "lmtp.sock");
  const server = listener(lmtpConfig({ socket, socketMode: "0600" }), stored);
  await server.start();
  assert.equal(statSync(socket).mode & 0o777, 0o600);
  const { client, greeting } = await RawLmtp.open(socket);
  try {
    assert.match(greeting, /^220 mail\.example\.test LMTP/);
    await client.command("LHLO mta.example.test");
    const result = await client.transaction("tybalt@capulet.test", ["juliet@mail.example.test"], mailText({ From: "tybalt@capulet.test" }, "by socket"));
    assert.match(result.replies[0]!, /^250 2\.1\.5 /);
  } finally {
    client.close();
    await server.stop();
  }
  assert.throws(() => statSync(socket), /ENOENT/);
  // A socket file left behind by a crash does not keep the next start from listening.
  const again = listener(lmtpConfig({ socket }), stored);
  await again.start();
  await again.stop();
});

test("a stop lets a mail being stored get its replies, then closes the connection with 421", async () => {
  const port = await freePort();
  let release: () => void = () => undefined;
  const slow = async (envelope: LmtpEnvelope): Promise<LmtpReply[]> => {
    await new Promise<void>((resolve) => (release = resolve));
    return envelope.recipients.map(() => LMTP_REPLY.stored);
  };
  const server = listener(lmtpConfig({ port }), slow);
  await server.start();
  const { client } = await RawLmtp.open(port);
  await client.command("LHLO mta.example.test");
  const transaction = client.transaction("tybalt@capulet.test", ["juliet@mail.example.test"], mailText({ From: "tybalt@capulet.test" }, "slow"));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const stopped = server.stop();
  await new Promise((resolve) => setTimeout(resolve, 200));
  release();
  const result = await transaction;
  assert.match(result.replies[0]!, /^250 2\.1\.5 /);
  await stopped;
  assert.match((await client.replies(1))[0]!, /^421 4\.3\.2 /);
  client.close();
  // Nothing listens any more.
  await assert.rejects(RawLmtp.open(port), /ECONNREFUSED/);
});

test("a handler that fails answers 451 for every recipient instead of taking the listener down", async () => {
  const port = await freePort();
  const server = listener(lmtpConfig({ port }), async () => {
    throw new Error("boom");
  });
  await server.start();
  const { client } = await RawLmtp.open(port);
  try {
    await client.command("LHLO mta.example.test");
    const result = await client.transaction("tybalt@capulet.test", ["juliet@mail.example.test"], mailText({ From: "tybalt@capulet.test" }, "x"));
    assert.match(result.replies[0]!, /^451 4\.3\.0 /);
    assert.match(await client.command("NOOP"), /^250/);
  } finally {
    client.close();
    await server.stop();
  }
});

test("an address named twice is handed over once and answered once per RCPT, also when the mail is too large or cannot be taken", async () => {
  const port = await freePort();
  const taken: string[][] = [];
  const server = listener(lmtpConfig({ port }), async (envelope, source) => {
    taken.push(envelope.recipients);
    if (source.includes("boom")) throw new Error("boom");
    return envelope.recipients.map(() => LMTP_REPLY.stored);
  });
  await server.start();
  const { client } = await RawLmtp.open(port);
  const twice = ["juliet@mail.example.test", "juliet@MAIL.Example.Test"];
  try {
    await client.command("LHLO mta.example.test");
    const stored = await client.transaction("tybalt@capulet.test", twice, mailText({ From: "tybalt@capulet.test" }, "twice"));
    assert.deepEqual(
      stored.rcpt.map((reply) => reply.slice(0, 3)),
      ["250", "250"],
    );
    assert.deepEqual(
      stored.replies.map((reply) => reply.slice(0, 9)),
      ["250 2.1.5", "250 2.1.5"],
    );
    assert.deepEqual(taken, [["juliet@mail.example.test"]]);

    const failed = await client.transaction("tybalt@capulet.test", twice, mailText({ From: "tybalt@capulet.test" }, "boom"));
    assert.deepEqual(
      failed.replies.map((reply) => reply.slice(0, 9)),
      ["451 4.3.0", "451 4.3.0"],
    );

    const huge = await client.transaction("tybalt@capulet.test", twice, `From: tybalt@capulet.test\r\n\r\n${`${"x".repeat(999)}\r\n`.repeat(1100)}`);
    assert.deepEqual(
      huge.replies.map((reply) => reply.slice(0, 9)),
      ["552 5.3.4", "552 5.3.4"],
    );
    assert.match(await client.command("NOOP"), /^250/, "no reply was left over for NOOP to pick up");
  } finally {
    client.close();
    await server.stop();
  }
});
