// With Twilio, which this gateway reaches only through its Messaging API (no Conversations), the
// SMS component offers no group chats, and texts stay one-to-one.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { xml, type TestClient } from "../support/xmpp-client.js";
import { joinSms, phoneJid, SMS, startSmsHarness, type SmsHarness } from "./sms-harness.js";

let s: SmsHarness;
let juliet: TestClient;
const ROMEO = "+14155550123";

before(async () => {
  s = await startSmsHarness();
  juliet = await s.h.login("juliet");
  await joinSms(juliet, { number: s.numbers[0]! });
});
after(async () => {
  await s?.stop();
});

test("with Twilio the SMS component does not offer to start a group", async () => {
  const commands = await juliet.iq(
    xml("iq", { type: "get", to: SMS }, xml("query", { xmlns: "http://jabber.org/protocol/disco#items", node: "http://jabber.org/protocol/commands" })),
  );
  assert.equal(commands.attrs.type, "result", commands.toString());
  const nodes = commands
    .getChild("query")
    ?.getChildren("item")
    .map((item) => item.attrs.node);
  assert.ok(!nodes?.includes("new-group"), String(nodes));
});

test("with Twilio a group chat message to the component is refused, and a text arrives one-to-one", async () => {
  await juliet.send(xml("message", { to: SMS, type: "chat" }, xml("body", {}, `group ${ROMEO} +14155550124`)));
  const posted = await s.twilio.sendInbound({ accountSid: s.operator.sid, from: ROMEO, to: s.numbers[0]!, body: "Just us." });
  assert.equal(posted.status, 200);
  const message = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === phoneJid(ROMEO), 10_000);
  assert.equal(message.attrs.type, "chat");
  assert.equal(juliet.received.filter((stanza) => stanza.getChild("x", "jabber:x:conference")).length, 0);
});
