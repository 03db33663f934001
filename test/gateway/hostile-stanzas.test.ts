import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { xml, type Element, type TestClient } from "../support/xmpp-client.js";
import { until } from "../support/wait.js";

let h: Harness;
let juliet: TestClient;
before(async () => {
  h = await startHarness({ config: (raw) => (raw.limits = { messagesPerMinute: 10_000 }) });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await h?.stop();
});

// Local parts a client might put in front of the transport's domain: wrong, odd, or huge.
const LOCALS = [
  "",
  "nobody",
  "@",
  "a@b",
  "a\\40",
  "\\40example.com",
  "x\\zzy\\40example.com",
  "%",
  "a%",
  "%b.com",
  "a%%b.com",
  "a%b",
  "..@..",
  "a\\40b\\40c.com",
  "x".repeat(500),
  `${"y".repeat(300)}\\40example.com`,
  "emoji😀\\40example.com",
  "ünïcödé\\40exämple.com",
  "a\\20b\\40example.com",
  "\\22quoted\\22\\40example.com",
  "+15551234567",
  "12345",
  "a\\40b",
  "a\\40b.",
  "a\\40.com",
  "a\\40-b.com",
  "a\\40b..com",
  "null\u0000byte\\40example.com".replace("\u0000", ""),
  "tab\\09\\40example.com",
];

const NAMESPACES = [
  "urn:example:unknown",
  "jabber:iq:private",
  "http://jabber.org/protocol/pubsub",
  "urn:xmpp:mam:2",
  "jabber:iq:roster",
  "jabber:iq:last",
  "urn:xmpp:time",
  "vcard-temp",
  "",
];

function hostileIqs(): Element[] {
  const iqs: Element[] = [];
  for (const local of LOCALS) {
    const to = local ? `${local}@${GATEWAY}` : GATEWAY;
    iqs.push(xml("iq", { type: "get", to }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    iqs.push(xml("iq", { type: "get", to }, xml("vCard", { xmlns: "vcard-temp" })));
    // (Not to the transport itself: that would really unregister Juliet.)
    if (local) iqs.push(xml("iq", { type: "set", to }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))));
  }
  for (const xmlns of NAMESPACES) {
    for (const type of ["get", "set"]) {
      iqs.push(xml("iq", { type, to: GATEWAY }, xml("query", { xmlns })));
      iqs.push(xml("iq", { type, to: contactJid("romeo@montague.net") }, xml("whatever", { xmlns: xmlns || "urn:x" })));
    }
  }
  iqs.push(xml("iq", { type: "get", to: GATEWAY }));
  iqs.push(xml("iq", { type: "get", to: GATEWAY }, xml("a", { xmlns: "urn:a" }), xml("b", { xmlns: "urn:b" })));
  iqs.push(xml("iq", { type: "set", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:gateway" }, xml("prompt", {}, "x".repeat(10_000)))));
  iqs.push(xml("iq", { type: "set", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:gateway" })));
  iqs.push(xml("iq", { type: "set", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:register" }, xml("x", { xmlns: "jabber:x:data", type: "result" }))));
  iqs.push(xml("iq", { type: "set", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:register" })));
  iqs.push(xml("iq", { type: "set", to: GATEWAY }, xml("command", { xmlns: "http://jabber.org/protocol/commands", node: "no-such-command" })));
  iqs.push(
    xml(
      "iq",
      { type: "set", to: GATEWAY },
      xml("command", { xmlns: "http://jabber.org/protocol/commands", node: "register", sessionid: "forged", action: "complete" }),
    ),
  );
  iqs.push(xml("iq", { type: "get", to: GATEWAY }, xml("query", { xmlns: "http://jabber.org/protocol/disco#items", node: "x".repeat(2000) })));
  return iqs;
}

test("hundreds of malformed, unknown and absurd requests are each answered and the link stays up", async () => {
  const iqs = hostileIqs();
  assert.ok(iqs.length >= 120, `${iqs.length} iq cases`);
  const replies = await Promise.all(iqs.map((iq) => juliet.iq(iq, 15_000)));
  const unanswered = replies.filter((reply) => reply.attrs.type !== "result" && reply.attrs.type !== "error");
  assert.equal(unanswered.length, 0);
  for (const reply of replies.filter((candidate) => candidate.attrs.type === "error")) {
    const error = reply.getChild("error")!;
    // Either our error (with a sentence) or the server's own for JIDs it would not route.
    assert.ok(error.getChildElements().length > 0, reply.toString());
  }
  assert.equal(h.gateway.services[0]!.link.state, "online");
});

test("hostile messages are refused with reasons and never take the link down", async () => {
  const before = h.transport.sent.length;
  const messages: Element[] = [];
  for (const [i, local] of LOCALS.entries()) {
    messages.push(xml("message", { to: `${local || "x"}@${GATEWAY}`, type: "chat", id: `hm-${i}` }, xml("body", {}, `to ${i}`)));
  }
  const types = ["groupchat", "headline", "normal", "error", "bogus", ""];
  for (const [i, type] of types.entries()) {
    messages.push(xml("message", { to: contactJid("romeo@montague.net"), type: type || undefined, id: `ht-${i}` }, xml("body", {}, `type ${type}`)));
  }
  messages.push(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id: "huge" }, xml("body", {}, "z".repeat(100_000))));
  messages.push(
    xml(
      "message",
      { to: contactJid("romeo@montague.net"), type: "chat", id: "oob-js" },
      xml("body", {}, "x"),
      xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, "javascript:alert(1)")),
    ),
  );
  messages.push(
    xml(
      "message",
      { to: contactJid("romeo@montague.net"), type: "chat", id: "nested" },
      xml("body", {}, "ok"),
      xml("x", { xmlns: "urn:deep" }, xml("y", {}, xml("z", {}, "deep"))),
    ),
  );
  messages.push(
    xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id: "states" }, xml("composing", { xmlns: "http://jabber.org/protocol/chatstates" })),
  );
  for (const message of messages) await juliet.send(message);
  const presences = ["subscribe", "unsubscribe", "probe", "bogus", "error", "subscribed"].map((type) => xml("presence", { to: `x@${GATEWAY}`, type }));
  for (const presence of presences) await juliet.send(presence);

  // A valid message afterwards still goes through, so nothing before it wedged the gateway.
  await juliet.send(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id: "after" }, xml("body", {}, "still working")));
  await until(() => h.transport.sent.some((entry) => entry.message.body === "still working"), 10_000);
  assert.ok(h.transport.sent.some((entry) => entry.message.body === "still working"));
  const huge = await juliet.waitFor((stanza) => stanza.attrs.id === "huge" && stanza.attrs.type === "error");
  assert.ok(huge);
  const group = await juliet.waitFor((stanza) => stanza.attrs.id === "ht-0" && stanza.attrs.type === "error");
  assert.ok(group);
  const relayed = h.transport.sent.slice(before).map((entry) => entry.message);
  assert.ok(
    relayed.every((message) => message.attachments.every((attachment) => /^https?:/.test(attachment.url))),
    "no javascript: URL is passed on",
  );
  assert.ok(!relayed.some((message) => message.body === "type error"), "an error message is never relayed");
  assert.equal(h.gateway.services[0]!.link.state, "online");
});

test("an iq flood is answered in full without dropping the link", async () => {
  const flood = Array.from({ length: 500 }, () => juliet.iq(xml("iq", { type: "get", to: GATEWAY }, xml("ping", { xmlns: "urn:xmpp:ping" })), 20_000));
  const replies = await Promise.all(flood);
  assert.equal(replies.filter((reply) => reply.attrs.type === "result").length, 500);
  assert.equal(h.gateway.services[0]!.link.state, "online");
});
