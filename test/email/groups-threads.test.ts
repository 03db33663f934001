// Which group conversation a mail belongs to, and the headers of a reply to all (threads.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createThreads, groupKeyOf, type ThreadLink } from "../../transports/email/threads.js";
import { memoryTable } from "../support/memory-table.js";

test("a mail answering a group's latest mail, or naming its first, finds the group; others do not", async () => {
  const threads = createThreads(memoryTable<ThreadLink | string>());
  const first: ThreadLink = { messageId: "<a@x>", references: [], subject: "Plans" };
  const key = groupKeyOf(first);
  await threads.groupMail("j@x", key, first);
  await threads.groupMail("j@x", key, { messageId: "<b@x>", references: ["<a@x>"] });
  assert.equal(await threads.groupOf("j@x", ["<a@x>", "<b@x>"]), key);
  assert.equal(await threads.groupOf("j@x", ["<b@x>"]), key, "References trimmed to the mail answered");
  assert.equal(await threads.groupOf("j@x", ["<a@x>", "<unknown@y>"]), key, "the thread's first mail");
  assert.equal(await threads.groupOf("j@x", ["<unknown@y>"]), undefined);
  assert.equal(await threads.groupOf("someone-else@x", ["<a@x>"]), undefined, "another user's groups are theirs");
});

test("a reply to all answers the group's latest mail, with the chain in References", async () => {
  const threads = createThreads(memoryTable<ThreadLink | string>());
  assert.deepEqual(await threads.groupReplyHeaders("j@x", "<a@x>"), { references: [] });
  await threads.groupMail("j@x", "<a@x>", { messageId: "<a@x>", references: [], subject: "Plans" });
  await threads.groupMail("j@x", "<a@x>", { messageId: "<c@x>", references: ["<a@x>"], subject: "Re: Plans" });
  assert.deepEqual(await threads.groupReplyHeaders("j@x", "<a@x>"), { inReplyTo: "<c@x>", subject: "Re: Plans", references: ["<a@x>", "<c@x>"] });
  await threads.forget("j@x");
  assert.deepEqual(await threads.groupReplyHeaders("j@x", "<a@x>"), { references: [] });
});
