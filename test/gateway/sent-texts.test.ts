import { test } from "node:test";
import assert from "node:assert/strict";
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
