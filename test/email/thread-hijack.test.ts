// A mail thread's chat thread is shared by everyone who answers the thread, but a reply to one
// contact answers only that contact's mail: a stranger naming the thread's Message-ID cannot put
// their subject or Message-ID into the user's next reply to the contact (transports/email/threads.ts).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { simpleParser } from "mailparser";
import { createThreads, type ThreadLink } from "../../transports/email/threads.js";
import { memoryTable } from "../support/memory-table.js";
import type { TestClient } from "../support/xmpp-client.js";
import { chat, lmtpDeliver, personalAccount, registerEmail, startWorld, waitForChat, type World } from "./world.js";

const JULIET_MAIL = "juliet@capulet.test";
const ALICE_MAIL = "alice@a.example";
const MALLORY_MAIL = "mallory@evil.example";

let world: World;
let juliet: TestClient;

before(async () => {
  world = await startWorld({ mailboxes: [JULIET_MAIL, ALICE_MAIL, MALLORY_MAIL] });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET_MAIL));
  assert.equal(reply.attrs.type, "result", reply.toString());
});
after(async () => {
  await world?.stop();
});

const mail = (headers: string[], body: string): string => [...headers, "Content-Type: text/plain; charset=utf-8", "", body, ""].join("\n");

test("a stranger's mail that names a contact's Message-ID does not become what the user's reply to the contact answers", async () => {
  await lmtpDeliver(
    world,
    ALICE_MAIL,
    JULIET_MAIL,
    mail([`From: Alice <${ALICE_MAIL}>`, `To: ${JULIET_MAIL}`, "Subject: Lunch on Friday?", "Message-ID: <a1@a.example>"], "Lunch on Friday?"),
  );
  const fromAlice = await waitForChat(juliet, ALICE_MAIL);
  const thread = fromAlice.getChildText("thread") ?? "";
  assert.equal(thread, "a1@a.example", "a mail thread begun by mail is named after its first Message-ID");

  await lmtpDeliver(
    world,
    MALLORY_MAIL,
    JULIET_MAIL,
    mail(
      [
        `From: Alice's bank <${MALLORY_MAIL}>`,
        `To: ${JULIET_MAIL}`,
        "Subject: Re: Lunch on Friday? -- new bank details enclosed",
        "Message-ID: <evil@evil.example>",
        "In-Reply-To: <a1@a.example>",
        "References: <a1@a.example>",
      ],
      "Please pay to the new account.",
    ),
  );
  const fromMallory = await waitForChat(juliet, MALLORY_MAIL);
  assert.equal(fromMallory.getChildText("thread"), thread, "the stranger's mail names the same chat thread");

  const relayed = world.relay.received.length;
  await juliet.send(chat(ALICE_MAIL, "Sure, Friday at noon!", { thread }));
  const sent = await world.relay.waitForMail(relayed + 1);
  assert.deepEqual(sent.to, [ALICE_MAIL]);
  const parsed = await simpleParser(sent.raw);
  assert.equal(parsed.subject, "Re: Lunch on Friday?");
  assert.equal(parsed.inReplyTo, "<a1@a.example>");
  assert.deepEqual([parsed.references].flat(), ["<a1@a.example>"]);
  const head = sent.raw.toString("latin1").split(/\r?\n\r?\n/)[0]!;
  assert.doesNotMatch(head, /evil|bank details/i, "nothing of the stranger's mail is in the reply's headers");

  // The stranger, answered in their own chat, gets the answer to their own mail; and Alice's
  // conversation goes on with the user's reply to her.
  await juliet.send(chat(MALLORY_MAIL, "Who is this?", { thread }));
  const toMallory = await simpleParser((await world.relay.waitForMail(relayed + 2)).raw);
  assert.equal(toMallory.inReplyTo, "<evil@evil.example>");
  await juliet.send(chat(ALICE_MAIL, "And bring the plans.", { thread }));
  const again = await simpleParser((await world.relay.waitForMail(relayed + 3)).raw);
  assert.equal(again.subject, "Re: Lunch on Friday?");
  assert.deepEqual([again.references].flat(), ["<a1@a.example>", parsed.messageId]);
  assert.equal(again.inReplyTo, parsed.messageId, "the next reply to Alice answers the user's last mail to her");
});

// The key a release before this one kept the latest mail of a chat thread under, whoever sent it.
const sharedThreadKey = (user: string, thread: string): string =>
  `${user}|${createHash("sha256").update(["thread", thread].join("\u0000")).digest("base64url").slice(0, 32)}`;

test("after an upgrade, a thread's row of the release before names no reply, but still keeps the thread's chat name", async () => {
  const table = memoryTable<ThreadLink | string>();
  const threads = createThreads(table);
  const user = "j@x";
  // Left by the release before: Alice's mail arrived under the default chat thread, then a
  // stranger's mail of the same thread took the thread's row. Alice's conversation row is the
  // same in both releases.
  await table.set(sharedThreadKey(user, "a1@a.example"), { messageId: "<evil@evil.example>", references: ["<a1@a.example>"], subject: "Re: evil" });
  await threads.sent(user, ALICE_MAIL, { messageId: "<g0@gw>", references: ["<a1@a.example>"], subject: "Re: Lunch on Friday?" });

  const headers = await threads.replyHeaders(user, ALICE_MAIL, { thread: "a1@a.example" });
  assert.deepEqual(
    headers,
    { inReplyTo: "<g0@gw>", subject: "Re: Lunch on Friday?", references: ["<a1@a.example>", "<g0@gw>"] },
    "Alice's own conversation, not the shared row",
  );

  // The user answers from a chat thread of their client's: the mail thread already had its name.
  await threads.sent(user, ALICE_MAIL, { messageId: "<g1@gw>", references: ["<a1@a.example>"] }, "client-thread");
  const next = await threads.received(user, ALICE_MAIL, "s2", { messageId: "<a2@a.example>", references: ["<a1@a.example>", "<g1@gw>"] });
  assert.equal(next.thread, "a1@a.example");
});
