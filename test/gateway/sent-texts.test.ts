import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { carriesContent } from "../../src/gateway/features/message-features.js";
import { createSentTexts } from "../../src/gateway/state/sent-texts.js";
import { xml } from "../../src/xmpp/xml.js";
import { memoryTable } from "../support/memory-table.js";

const USER = "juliet@example.test";
const PEER = "+14155550123";

test("a conversation keeps its last 30 messages, newest first, each once, and only their start", async () => {
  const sent = createSentTexts(memoryTable<unknown>());
  for (let index = 0; index < 35; index += 1) await sent.remember(USER, PEER, { ids: [`m${index}`], excerpt: `text ${index}`, at: Date.now() });
  await sent.remember(USER, PEER, { ids: ["m34"], excerpt: "text 34 again", at: Date.now() });
  await sent.remember(USER, PEER, { ids: ["long"], excerpt: "x".repeat(5_000), at: Date.now() });
  const recent = await sent.recent(USER, PEER);
  assert.equal(recent.length, 30);
  assert.equal(recent[0]!.excerpt.length, 300);
  assert.equal(recent[1]!.excerpt, "text 34");
  assert.equal(await sent.find(USER, PEER, "m0"), undefined);
  assert.equal((await sent.find(USER, PEER, "m20"))?.excerpt, "text 20");
  assert.equal(await sent.find(USER, "+14155550199", "m20"), undefined);
});

test("each message costs one small write, and another gateway process reads the conversation from the store", async () => {
  const table = memoryTable<unknown>();
  const writes: number[] = [];
  const set = table.set;
  table.set = async (key, value, ttl) => {
    writes.push(JSON.stringify(value).length);
    return set(key, value, ttl);
  };
  const sent = createSentTexts(table);
  for (let index = 0; index < 40; index += 1)
    await sent.remember(USER, PEER, { ids: [`m${index}`], excerpt: `text ${index} ${"y".repeat(250)}`, at: Date.now() });
  assert.equal(writes.length, 40, "one write per message");
  assert.ok(Math.max(...writes) < 1_000, `a write of ${Math.max(...writes)} characters`);

  // A restarted gateway (or the instance that took over) knows the same messages in the same order.
  const again = createSentTexts(table);
  const recent = await again.recent(USER, PEER);
  assert.deepEqual(
    recent.map((entry) => entry.ids[0]),
    Array.from({ length: 30 }, (_, index) => `m${39 - index}`),
  );
  assert.equal(await again.find(USER, PEER, "m9"), undefined);
  assert.match((await again.find(USER, PEER, "m10"))?.excerpt ?? "", /^text 10 /);
  await again.remember(USER, PEER, { ids: ["m39"], excerpt: "a resend", at: Date.now() });
  await again.remember(USER, PEER, { ids: ["m40"], excerpt: "text 40", at: Date.now() });
  assert.deepEqual(
    (await createSentTexts(table).recent(USER, PEER)).slice(0, 2).map((entry) => entry.excerpt.slice(0, 7)),
    ["text 40", "text 39"],
  );
});

test("after a restart, the first message to a contact costs one store statement, later ones none", async () => {
  const table = memoryTable<unknown>();
  const before = createSentTexts(table);
  for (let index = 0; index < 40; index += 1) await before.remember(USER, PEER, { ids: [`m${index}`], excerpt: `text ${index}`, at: Date.now() });
  // Each call of get() or getMany() is one statement.
  let statements = 0;
  const { get, getMany } = table;
  table.get = async (key) => {
    statements += 1;
    return get(key);
  };
  table.getMany = async (keys) => {
    statements += 1;
    return getMany(keys);
  };

  const after = createSentTexts(table);
  await after.remember(USER, PEER, { ids: ["m39"], excerpt: "text 39, sent again", at: Date.now() });
  await after.remember(USER, PEER, { ids: ["m40"], excerpt: "text 40", at: Date.now() });
  await after.remember(USER, "+14155550199", { ids: ["n0"], excerpt: "to someone new", at: Date.now() });
  assert.equal(statements, 2, "one read for each conversation, none for a message after the first");

  assert.equal((await after.find(USER, PEER, "m40"))?.excerpt, "text 40");
  assert.equal((await after.find(USER, PEER, "m11"))?.excerpt, "text 11", "an older message is found in its slot");
  assert.equal(await after.find(USER, PEER, "m10"), undefined, "the 31st newest is gone");
  assert.deepEqual(
    (await after.recent(USER, PEER)).slice(0, 3).map((entry) => entry.excerpt),
    ["text 40", "text 39", "text 38"],
    "the message sent again across the restart is kept once",
  );
});

test("a conversation an earlier release kept as one list is taken over", async () => {
  const table = memoryTable<unknown>();
  const hash = createHash("sha256").update(PEER).digest("base64url").slice(0, 32);
  const at = Date.now();
  await table.set(`${USER}|c|${hash}`, [
    { ids: ["new", "origin-new"], excerpt: "See you at 9", at },
    { ids: ["old"], excerpt: "Dinner?", at: at - 1_000 },
    { ids: ["stale"], excerpt: "Last month", at: at - 30 * 24 * 3_600_000 },
  ]);
  const sent = createSentTexts(table);
  assert.equal((await sent.find(USER, PEER, "origin-new"))?.excerpt, "See you at 9");
  assert.deepEqual(
    (await sent.recent(USER, PEER)).map((entry) => entry.excerpt),
    ["See you at 9", "Dinner?"],
  );
  assert.equal(table.map.has(`${USER}|c|${hash}`), false, "the list is gone once taken over");
  assert.equal((await createSentTexts(table).find(USER, PEER, "old"))?.excerpt, "Dinner?", "and its messages outlive a restart");
});

test("a correction replaces the kept text; a read waits for the writes queued before it", async () => {
  const sent = createSentTexts(memoryTable<unknown>());
  void sent.remember(USER, PEER, { ids: ["a", "origin-a"], excerpt: "Meet at 8", at: Date.now() });
  void sent.corrected(USER, PEER, "a", "Meet at 9");
  assert.equal((await sent.find(USER, PEER, "origin-a"))?.excerpt, "Meet at 9");
});

test("reactions: each message's answer is the set before it, the same when that message is handled again", async () => {
  const sent = createSentTexts(memoryTable<unknown>());
  assert.deepEqual(await sent.swapReactions(USER, PEER, "a", ["👍"], "r1"), []);
  assert.deepEqual(await sent.swapReactions(USER, PEER, "a", ["👍", "🎉"], "r2"), ["👍"]);
  assert.deepEqual(await sent.swapReactions(USER, PEER, "a", ["👍", "🎉"], "r2"), ["👍"], "a replay of r2");
  assert.deepEqual(await sent.swapReactions(USER, PEER, "a", [], "r3"), ["👍", "🎉"]);
  assert.deepEqual(await sent.swapReactions(USER, PEER, "a", ["🎉"], "r4"), []);
});

test("forgetting a user removes everything of theirs and nothing of anyone else's", async () => {
  const table = memoryTable<unknown>();
  const sent = createSentTexts(table);
  await sent.remember(USER, PEER, { ids: ["a"], excerpt: "mine", at: Date.now() });
  await sent.swapReactions(USER, PEER, "a", ["👍"], "r1");
  await sent.remember("romeo@example.test", PEER, { ids: ["b"], excerpt: "his", at: Date.now() });
  await sent.forget(USER);
  assert.deepEqual(await sent.recent(USER, PEER), []);
  assert.equal([...table.map.keys()].filter((key) => key.startsWith(USER)).length, 0);
  assert.equal((await sent.find("romeo@example.test", PEER, "b"))?.excerpt, "his");
});

test("a reaction or a retraction without a body is recorded before it is handled (intake), a chat state alone is not", () => {
  const to = { to: "+14155550123@sms.example.test", type: "chat" };
  assert.ok(carriesContent(xml("message", to, xml("reactions", { xmlns: "urn:xmpp:reactions:0", id: "a" }))));
  assert.ok(carriesContent(xml("message", to, xml("retract", { xmlns: "urn:xmpp:message-retract:1", id: "a" }))));
  assert.ok(carriesContent(xml("message", to, xml("body", {}, "hi"))));
  assert.ok(!carriesContent(xml("message", to, xml("composing", { xmlns: "http://jabber.org/protocol/chatstates" }))));
  assert.ok(!carriesContent(xml("message", to, xml("reactions", { xmlns: "urn:xmpp:reactions:9", id: "a" }))));
});
