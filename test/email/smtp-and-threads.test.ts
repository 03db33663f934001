import assert from "node:assert/strict";
import { test } from "node:test";
import { composeMail } from "../../transports/email/compose.js";
import { classify } from "../../transports/email/smtp.js";
import { createThreads, type ThreadLink } from "../../transports/email/threads.js";
import { memoryTable } from "../support/memory-table.js";

test("an SMTP 5xx is final and carries the server's words; 4xx and connection failures are retried; each names its code for the metrics", () => {
  const login = { host: "smtp.test" };
  assert.deepEqual(classify(login, { responseCode: 550, response: "550 5.1.1 User unknown" }), {
    kind: "permanent",
    reason: "The mail server smtp.test refused this message: 550 5.1.1 User unknown",
    providerCode: "550",
  });
  assert.deepEqual(classify(login, { responseCode: 451, response: "451 try later" }), {
    kind: "temporary",
    reason: "The mail server smtp.test asked to try later: 451 try later",
    providerCode: "451",
  });
  assert.deepEqual(classify(login, { code: "ECONNECTION", message: "connect ECONNREFUSED" }), {
    kind: "temporary",
    reason: "Could not reach the mail server smtp.test: connect ECONNREFUSED",
    providerCode: "ECONNECTION",
  });
});

test("a reply continues the conversation: In-Reply-To the last mail, References the whole chain", async () => {
  const threads = createThreads(memoryTable<ThreadLink | string>());
  const user = "juliet@example.test";
  const peer = "romeo@montague.test";
  assert.deepEqual(await threads.replyHeaders(user, peer, {}), { references: [] });
  await threads.sent(user, peer, { messageId: "<m1@gw>", references: [], subject: "Hi" }, "t1");
  const { thread, saved } = await threads.received(user, peer, "box:1:7", { messageId: "<r1@m>", references: ["<m1@gw>"], subject: "Re: Hi" });
  await saved;
  assert.equal(thread, "t1", "the mail thread maps back to the chat thread it began in");
  assert.deepEqual(await threads.replyHeaders(user, peer, { thread: "t1" }), { inReplyTo: "<r1@m>", subject: "Re: Hi", references: ["<m1@gw>", "<r1@m>"] });
  // A XEP-0461 reply names the exact mail, even when newer ones came since.
  await (await threads.received(user, peer, "box:1:8", { messageId: "<r2@m>", references: [], subject: "Other" })).saved;
  assert.equal((await threads.replyHeaders(user, peer, { inReplyTo: "box:1:7" })).inReplyTo, "<r1@m>");
  assert.equal((await threads.replyHeaders(user, peer, {})).inReplyTo, "<r2@m>");
});

test("a mail thread that did not begin in chat gets its first Message-ID as chat thread", async () => {
  const threads = createThreads(memoryTable<ThreadLink | string>());
  assert.equal((await threads.received("j@x", "a@b.test", "s1", { messageId: "<b2@b>", references: ["<a1@b>"] })).thread, "a1@b");
});

test("a mail thread that began by mail keeps its chat thread when the user answers from another one", async () => {
  const threads = createThreads(memoryTable<ThreadLink | string>());
  await (await threads.received("j@x", "a@b.test", "s1", { messageId: "<a1@b>", references: [] })).saved;
  await threads.sent("j@x", "a@b.test", { messageId: "<g1@gw>", references: ["<a1@b>"] }, "client-thread");
  const next = await threads.received("j@x", "a@b.test", "s2", { messageId: "<a2@b>", references: ["<a1@b>", "<g1@gw>"] });
  assert.equal(next.thread, "a1@b", "the first name of the thread stays");
  // A thread that began in chat keeps the chat's name.
  await threads.sent("j@x", "a@b.test", { messageId: "<g2@gw>", references: [] }, "t2");
  assert.equal((await threads.received("j@x", "a@b.test", "s3", { messageId: "<a3@b>", references: ["<g2@gw>"] })).thread, "t2");
});

test("a chat message becomes a UTF-8 text mail with a stable Message-ID and a one-line subject", () => {
  const message = { id: "0f1e", user: "j@x", peer: "romeo@montague.test", body: "Hi\nthere", attachments: [], sentAt: new Date(0), sourceId: "s" } as never;
  const mail = composeMail({
    message,
    from: { address: "j@c.test", name: "Juliet" },
    reply: { references: [], subject: "Plans" },
    attachments: [],
    linked: ["https://x.test/a.png"],
    defaultSubject: "Message",
    messageIdDomain: "gw.test",
  });
  assert.equal(mail.messageId, "<0f1e@gw.test>");
  assert.equal(mail.subject, "Re: Plans");
  assert.equal(mail.text, "Hi\nthere\n\nhttps://x.test/a.png");
  const withSubject = composeMail({
    message: { ...(message as object), subject: "A\r\nBcc: evil@x.test" } as never,
    from: { address: "j@c.test" },
    reply: { references: [] },
    attachments: [],
    linked: [],
    defaultSubject: "Message",
    messageIdDomain: "gw.test",
  });
  assert.equal(withSubject.subject, "A Bcc: evil@x.test", "a line break cannot inject a header");
});

test("unregistering forgets a user's threads and nobody else's", async () => {
  const table = memoryTable<ThreadLink | string>();
  const threads = createThreads(table);
  await threads.sent("a@x", "p@q.test", { messageId: "<1@gw>", references: [] }, "t");
  await threads.sent("b@x", "p@q.test", { messageId: "<2@gw>", references: [] }, "t");
  await threads.forget("a@x");
  assert.deepEqual(await threads.replyHeaders("a@x", "p@q.test", {}), { references: [] });
  assert.equal((await threads.replyHeaders("b@x", "p@q.test", {})).inReplyTo, "<2@gw>");
});
