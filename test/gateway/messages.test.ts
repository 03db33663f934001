import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { errorCondition, errorText, xml, type Element, type TestClient } from "../support/xmpp-client.js";

let h: Harness;
let juliet: TestClient;
const ROMEO = "romeo@montague.net";
before(async () => {
  h = await startHarness({ users: ["juliet", "romeo", "tybalt"], config: (raw) => (raw.limits = { messagesPerMinute: 20 }) });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await h?.stop();
});

const chat = (to: string, body: string, id: string, ...extra: Element[]) => xml("message", { to, type: "chat", id }, xml("body", {}, body), ...extra);
const bodyIs = (text: string) => (stanza: Element) => stanza.name === "message" && stanza.getChildText("body") === text;

test("an escaped contact JID round-trips unchanged in both directions", async () => {
  await juliet.send(chat(contactJid(ROMEO), "Wherefore art thou?", "e1"));
  await h.transport.waitForSent(1);
  assert.equal(h.transport.sent.at(-1)!.message.peer, ROMEO);
  await (await h.transport.inject({ user: "juliet@example.test", peer: ROMEO, body: "Here!", sourceId: "esc-1" })).delivered;
  const reply = await juliet.waitFor(bodyIs("Here!"));
  assert.equal(reply.attrs.from, `romeo\\40montague.net@${GATEWAY}`);
  assert.equal(reply.attrs.type, "chat");
});

test("the older user%domain form is accepted and answered from the canonical JID", async () => {
  const before = h.transport.sent.length;
  await juliet.send(chat(`benvolio%verona.it@${GATEWAY}`, "Old-style address", "pct1"));
  await h.transport.waitForSent(before + 1);
  assert.equal(h.transport.sent.at(-1)!.message.peer, "benvolio@verona.it");
  await (await h.transport.inject({ user: "juliet@example.test", peer: "benvolio@verona.it", body: "Answer to old style", sourceId: "pct-1" })).delivered;
  const reply = await juliet.waitFor(bodyIs("Answer to old style"));
  assert.equal(reply.attrs.from, contactJid("benvolio@verona.it"));
});

test("a message with control characters arrives with them removed and the link stays up", async () => {
  const dirty = "Bad\u0000 bytes\u0007 from\u001b the \uFFFEwire\uD800 here";
  await (await h.transport.inject({ user: "juliet@example.test", peer: ROMEO, body: dirty, subject: "Sub\u0001ject", nick: "Ro\u0000meo", sourceId: "ctl-1" }))
    .delivered;
  const received = await juliet.waitFor((stanza) => stanza.name === "message" && (stanza.getChildText("body") ?? "").startsWith("Bad"));
  assert.equal(received.getChildText("body"), "Bad bytes from the wire\uFFFD here");
  assert.equal(received.getChildText("subject"), "Subject");
  assert.equal(received.getChildText("nick", "http://jabber.org/protocol/nick"), "Romeo");
  assert.equal(h.gateway.services[0]!.link.state, "online");
  await (await h.transport.inject({ user: "juliet@example.test", peer: ROMEO, body: "after the bad one", sourceId: "ctl-2" })).delivered;
  await juliet.waitFor(bodyIs("after the bad one"));
});

test("a message for an offline user is kept by the server and arrives when they log in", async () => {
  const tybalt = await h.login("tybalt");
  await registerAndSubscribe(tybalt);
  await tybalt.stop();
  await (
    await h.transport.inject({
      user: "tybalt@example.test",
      peer: "mercutio@verona.it",
      body: "A plague on both your houses",
      sourceId: "off-1",
      sentAt: new Date(Date.now() - 3_600_000),
    })
  ).delivered;
  const again = await h.login("tybalt");
  const message = await again.waitFor(bodyIs("A plague on both your houses"));
  assert.equal(message.attrs.from, contactJid("mercutio@verona.it"));
  assert.ok(message.getChild("delay", "urn:xmpp:delay"), "an old message carries its original time");
  await again.stop();
});

test("the same source message is delivered only once", async () => {
  const first = await h.transport.inject({ user: "juliet@example.test", peer: ROMEO, body: "only once", sourceId: "dup-1" });
  await first.delivered;
  const second = await h.transport.inject({ user: "juliet@example.test", peer: ROMEO, body: "only once", sourceId: "dup-1" });
  assert.equal(first.duplicate, false);
  assert.equal(second.duplicate, true);
  await juliet.waitFor(bodyIs("only once"));
  await (await h.transport.inject({ user: "juliet@example.test", peer: ROMEO, body: "marker after dup", sourceId: "dup-2" })).delivered;
  await juliet.waitFor(bodyIs("marker after dup"));
  assert.equal(juliet.messages().filter((stanza) => stanza.getChildText("body") === "only once").length, 0);
});

test("a message for a user who is not registered is refused to the transport", async () => {
  await assert.rejects(h.transport.inject({ user: "nobody@example.test", peer: ROMEO, body: "hello", sourceId: "unreg-1" }), /not registered/);
});

test("subject, thread, nickname and attachments travel with an outgoing message", async () => {
  const before = h.transport.sent.length;
  await juliet.send(
    xml(
      "message",
      { to: contactJid(ROMEO), type: "chat", id: "rich1" },
      xml("subject", {}, "Tonight"),
      xml("body", {}, "See the picture"),
      xml("thread", {}, "balcony"),
      xml("nick", { xmlns: "http://jabber.org/protocol/nick" }, "Juliet C."),
      xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, "https://upload.example.test/balcony.jpg")),
    ),
  );
  await h.transport.waitForSent(before + 1);
  const sent = h.transport.sent.at(-1)!.message;
  assert.equal(sent.subject, "Tonight");
  assert.equal(sent.thread, "balcony");
  assert.equal(sent.nick, "Juliet C.");
  assert.deepEqual(sent.attachments, [{ url: "https://upload.example.test/balcony.jpg" }]);
  assert.equal(sent.sourceId, "rich1");
});

test("a reply to a delivered message tells the transport which message it answers", async () => {
  await (await h.transport.inject({ user: "juliet@example.test", peer: ROMEO, body: "Question?", thread: "t-42", sourceId: "<q1@montague.net>" })).delivered;
  const question = await juliet.waitFor(bodyIs("Question?"));
  assert.equal(question.getChildText("thread"), "t-42");
  const before = h.transport.sent.length;
  await juliet.send(chat(contactJid(ROMEO), "Answer!", "ans1", xml("reply", { xmlns: "urn:xmpp:reply:0", to: contactJid(ROMEO), id: question.attrs.id })));
  await h.transport.waitForSent(before + 1);
  const answer = h.transport.sent.at(-1)!.message;
  assert.equal(answer.inReplyTo, "<q1@montague.net>");
  assert.equal(answer.thread, "t-42");
});

test("a repeated stanza id is sent once", async () => {
  const before = h.transport.sent.length;
  await juliet.send(chat(contactJid(ROMEO), "same id", "same-1"));
  await juliet.send(chat(contactJid(ROMEO), "same id", "same-1"));
  await juliet.send(chat(contactJid(ROMEO), "next", "same-2"));
  await h.transport.waitForSent(before + 2);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(
    h.transport.sent.slice(before).map((entry) => entry.message.body),
    ["same id", "next"],
  );
});

test("a permanent failure comes back as an error message with the transport's reason", async () => {
  h.transport.script.push({ kind: "permanent", reason: "550 5.1.1 <ghost@verona.it>: mailbox unknown" });
  await juliet.send(chat(contactJid("ghost@verona.it"), "Are you there?", "perm1"));
  const error = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === "perm1");
  assert.equal(error.attrs.from, contactJid("ghost@verona.it"));
  assert.match(errorText(error), /550 5\.1\.1 <ghost@verona\.it>: mailbox unknown/);
  assert.equal(error.getChildText("body"), "Are you there?");
});

test("a temporary failure is retried until the transport accepts the message", async () => {
  const before = h.transport.sent.length;
  h.transport.script.push({ kind: "temporary", reason: "421 try later" }, { kind: "temporary", reason: "421 try later" });
  await juliet.send(chat(contactJid(ROMEO), "third time lucky", "temp1"));
  await h.transport.waitForSent(before + 1);
  assert.equal(h.transport.sent.at(-1)!.message.body, "third time lucky");
  assert.equal(juliet.received.filter((stanza) => stanza.attrs.id === "temp1").length, 0, "no error for a message that got through");
});

test("a delivery report becomes a receipt when the sender asked for one", async () => {
  const before = h.transport.sent.length;
  await juliet.send(chat(contactJid(ROMEO), "did you get this?", "rcpt1", xml("request", { xmlns: "urn:xmpp:receipts" })));
  await h.transport.waitForSent(before + 1);
  const providerId = `test-${h.transport.sent.length}`;
  await h.transport.context().reportStatus(providerId, { state: "delivered" });
  const receipt = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.getChild("received", "urn:xmpp:receipts")?.attrs.id === "rcpt1");
  assert.equal(receipt.attrs.from, contactJid(ROMEO));
});

test("a failure reported later comes back as an error for that message", async () => {
  const before = h.transport.sent.length;
  await juliet.send(chat(contactJid(ROMEO), "this one bounces later", "late1"));
  await h.transport.waitForSent(before + 1);
  await h.transport.context().reportStatus(`test-${h.transport.sent.length}`, { state: "failed", reason: "The recipient's mailbox is full." });
  const error = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === "late1");
  assert.match(errorText(error), /mailbox is full/);
});

test("a contact JID that is not an address is refused with jid-malformed", async () => {
  await juliet.send(chat(`no-at-sign@${GATEWAY}`, "hello?", "bad-jid"));
  const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "bad-jid");
  assert.equal(errorCondition(error), "jid-malformed");
});

test("a body over the size cap is refused with a sentence, not truncated silently", async () => {
  await juliet.send(chat(contactJid(ROMEO), "x".repeat(25_000), "huge1"));
  const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "huge1");
  assert.equal(errorCondition(error), "not-acceptable");
  assert.match(errorText(error), /25000 characters long; this gateway carries at most 20000/);
});

test("a user sending faster than the configured rate is told to slow down", async () => {
  for (let i = 0; i < 25; i += 1) await juliet.send(chat(contactJid("flood@verona.it"), `flood ${i}`, `flood-${i}`));
  const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && (stanza.attrs.id ?? "").startsWith("flood-"));
  assert.equal(errorCondition(error), "resource-constraint");
  assert.match(errorText(error), /faster than 20 messages a minute/);
});

test("a message to the transport itself gets a helpful answer", async () => {
  await juliet.send(chat(GATEWAY, "help", "svc1"));
  const answer = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === GATEWAY && Boolean(stanza.getChildText("body")));
  assert.match(answer.getChildText("body")!, /Commands:/);
  assert.match(answer.getChildText("body")!, /add ADDRESS/);
});
