// The IMAP session alone, against a real Dovecot: what it hands on, in which order, and what it
// remembers across restarts.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { pino } from "pino";
import type { Table } from "../../src/store/store.js";
import { emailConfigSchema } from "../../transports/email/config.js";
import { MailboxSession, type FetchedMail, type MailboxState, type MailOutcome } from "../../transports/email/imap.js";
import { LocalDovecot } from "../support/dovecot.js";
import { eventually, FAST, MAIL_PASSWORD } from "./world.js";
import { memoryTable } from "../support/memory-table.js";

const log = pino({ level: "silent" });
let dovecot: LocalDovecot;
let mailboxCount = 0;

before(async () => {
  dovecot = new LocalDovecot();
  await dovecot.start();
});
after(async () => {
  await dovecot?.destroy();
});

/** A fresh mailbox of its own for each test. */
function newMailbox(): string {
  const user = `box${(mailboxCount += 1)}@session.test`;
  dovecot.addMailbox(user, MAIL_PASSWORD);
  return user;
}

async function deliver(user: string, subjects: string[], body = "hello"): Promise<void> {
  const lmtp = nodemailer.createTransport({ host: "127.0.0.1", port: dovecot.lmtpPort, lmtp: true, secure: false, ignoreTLS: true });
  try {
    for (const subject of subjects)
      await lmtp.sendMail({ envelope: { from: "a@b.test", to: [user] }, raw: `From: a@b.test\r\nTo: ${user}\r\nSubject: ${subject}\r\n\r\n${body}\r\n` });
  } finally {
    lmtp.close();
  }
}

async function mailbox(user: string, path = "INBOX"): Promise<Array<{ uid: number; seen: boolean; subject: string }>> {
  const client = new ImapFlow({ host: "127.0.0.1", port: dovecot.imapPort, secure: false, auth: { user, pass: MAIL_PASSWORD }, logger: false });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const box = await client.mailboxOpen(path, { readOnly: true });
    if (box.exists === 0) return [];
    const found: Array<{ uid: number; seen: boolean; subject: string }> = [];
    for await (const message of client.fetch("1:*", { uid: true, flags: true, envelope: true })) {
      found.push({ uid: message.uid, seen: message.flags?.has("\\Seen") ?? false, subject: message.envelope?.subject ?? "" });
    }
    return found;
  } finally {
    await client.logout().catch(() => client.close());
  }
}

function session(
  user: string,
  state: Table<MailboxState>,
  handle: (mail: FetchedMail) => Promise<MailOutcome>,
  config: Record<string, unknown> = {},
  maxUnconfirmed?: number,
): MailboxSession {
  return new MailboxSession({
    key: user,
    login: { host: "127.0.0.1", port: dovecot.imapPort, security: "none", user, password: MAIL_PASSWORD },
    config: emailConfigSchema.parse({ ...FAST, ...config }),
    log,
    state,
    handle,
    ...(maxUnconfirmed !== undefined && { maxUnconfirmed }),
  });
}

const subjectOf = (mail: FetchedMail): string => /^Subject: (.*)$/m.exec(mail.source.toString())?.[1]?.trim() ?? "";

test("a new mailbox's old mail is never handed on; mail arriving later is, and is marked read once confirmed", async () => {
  const user = newMailbox();
  await deliver(user, ["old"]);
  const seen: string[] = [];
  const state = memoryTable<MailboxState>();
  const watcher = session(user, state, async (mail) => {
    seen.push(subjectOf(mail));
    return { kind: "deliver", delivered: Promise.resolve() };
  });
  watcher.start();
  try {
    await eventually(async () => state.map.has(user), "the session's first look");
    await deliver(user, ["new"]);
    await eventually(async () => (await mailbox(user)).find((mail) => mail.subject === "new")?.seen, "the new mail marked read");
    assert.deepEqual(seen, ["new"]);
    assert.equal((await mailbox(user)).find((mail) => mail.subject === "old")?.seen, false);
  } finally {
    await watcher.stop();
  }
});

test("a mail whose chat message was never confirmed is handed on again after a restart, then marked", async () => {
  const user = newMailbox();
  const state = memoryTable<MailboxState>();
  const first: string[] = [];
  const one = session(user, state, async (mail) => {
    first.push(subjectOf(mail));
    return { kind: "deliver", delivered: Promise.reject(new Error("the XMPP server never confirmed it")) };
  });
  one.start();
  await eventually(async () => state.map.has(user), "the session's first look");
  await deliver(user, ["unconfirmed"]);
  await eventually(async () => first.length === 1, "the first hand-over");
  await one.stop();
  assert.deepEqual(state.map.get(user)?.open, [1]);
  assert.equal((await mailbox(user))[0]?.seen, false);

  const second: string[] = [];
  const two = session(user, state, async (mail) => {
    second.push(subjectOf(mail));
    return { kind: "deliver", delivered: Promise.resolve() };
  });
  two.start();
  try {
    await eventually(async () => (await mailbox(user))[0]?.seen, "the mail marked read");
    assert.deepEqual(second, ["unconfirmed"]);
    await eventually(async () => state.map.get(user)?.open?.length === 0, "nothing left open");
  } finally {
    await two.stop();
  }
});

test("a burst of mail is handed on in the mailbox's UID order, each mail once, across several fetches", async () => {
  const user = newMailbox();
  const state = memoryTable<MailboxState>();
  const seen: string[] = [];
  const uids: number[] = [];
  const watcher = session(user, state, async (mail) => {
    seen.push(subjectOf(mail));
    uids.push(mail.uid);
    return { kind: "done" };
  });
  watcher.start();
  try {
    await eventually(async () => state.map.has(user), "the session's first look");
    const subjects = Array.from({ length: 230 }, (_, index) => `m${index}`);
    await deliver(user, subjects);
    await eventually(async () => seen.length >= subjects.length, "every mail handed on", 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      uids,
      subjects.map((_, index) => index + 1),
      "in UID order, each once",
    );
    // Dovecot numbers Maildir mail that arrived between two looks in directory order, not arrival order.
    assert.deepEqual([...seen].sort(), [...subjects].sort());
    assert.equal(state.map.get(user)?.lastUid, 230);
  } finally {
    await watcher.stop();
  }
});

test("with markDone 'move', handled mail leaves the inbox for the done folder; mail left alone stays", async () => {
  const user = newMailbox();
  const state = memoryTable<MailboxState>();
  const watcher = session(user, state, async (mail) => (subjectOf(mail) === "keep" ? { kind: "leave" } : { kind: "done" }), {
    markDone: "move",
    doneFolder: "Done",
  });
  watcher.start();
  try {
    await eventually(async () => state.map.has(user), "the session's first look");
    await deliver(user, ["keep", "move"]);
    await eventually(async () => (await mailbox(user, "Done").catch(() => [])).length === 1, "the mail in the done folder");
    assert.deepEqual(
      (await mailbox(user)).map((mail) => [mail.subject, mail.seen]),
      [["keep", false]],
    );
    assert.equal((await mailbox(user, "Done"))[0]?.subject, "move");
  } finally {
    await watcher.stop();
  }
});

test("a mail larger than maxMessageBytes is read only in part, and the handler is told", async () => {
  const user = newMailbox();
  const state = memoryTable<MailboxState>();
  const got: FetchedMail[] = [];
  const watcher = session(
    user,
    state,
    async (mail) => {
      got.push(mail);
      return { kind: "done" };
    },
    { maxMessageBytes: 2_048 },
  );
  watcher.start();
  try {
    await eventually(async () => state.map.has(user), "the session's first look");
    await deliver(user, ["small"]);
    await deliver(user, ["big"], "x".repeat(10_000));
    await eventually(async () => got.length === 2, "both mails");
    assert.equal(got[0]!.truncated, false);
    assert.equal(got[1]!.truncated, true);
    assert.ok(got[1]!.source.length <= 2_048);
  } finally {
    await watcher.stop();
  }
});

test("while the XMPP server confirms nothing, a mailbox hands on no more than its bound of mails, and the rest once confirmations come", async () => {
  const user = newMailbox();
  const state = memoryTable<MailboxState>();
  const handed: string[] = [];
  let confirm!: () => void;
  const confirmations = new Promise<void>((resolve) => (confirm = resolve));
  const watcher = session(
    user,
    state,
    async (mail) => {
      handed.push(subjectOf(mail));
      // Confirmed only once the XMPP server is back.
      return { kind: "deliver", delivered: confirmations };
    },
    {},
    5,
  );
  watcher.start();
  try {
    await eventually(async () => state.map.has(user), "the session's first look");
    await deliver(
      user,
      Array.from({ length: 12 }, (_unused, index) => `backlog ${index}`),
    );
    await eventually(async () => handed.length === 5, "the first five handed on");
    // Each further mail would sit in memory until the server is back: the session waits instead.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(handed.length, 5);
    confirm();
    await eventually(async () => handed.length === 12, "the rest handed on once confirmed");
    await eventually(async () => (await mailbox(user)).every((mail) => mail.seen), "every mail marked read");
    assert.deepEqual(
      handed,
      Array.from({ length: 12 }, (_unused, index) => `backlog ${index}`),
    );
  } finally {
    await watcher.stop();
  }
});

test("a session waiting for confirmations that never come still stops at once", async () => {
  const user = newMailbox();
  const state = memoryTable<MailboxState>();
  let handed = 0;
  const watcher = session(
    user,
    state,
    async () => {
      handed += 1;
      return { kind: "deliver", delivered: new Promise(() => undefined) };
    },
    {},
    2,
  );
  watcher.start();
  try {
    await eventually(async () => state.map.has(user), "the session's first look");
    await deliver(user, ["a", "b", "c", "d"]);
    await eventually(async () => handed === 2, "two handed on");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(handed, 2, "the session waits at its bound");
  } catch (error) {
    await watcher.stop();
    throw error;
  }
  const began = Date.now();
  await watcher.stop();
  // The stop's own grace for confirmations (5 s) bounds it; it does not hang on the wait.
  assert.ok(Date.now() - began < 9_000, `stopped in ${Date.now() - began} ms`);
});
