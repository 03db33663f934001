import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, joinSms, phoneJid, startSmsHarness, type SmsHarness } from "./sms-harness.js";
import { xml, type TestClient } from "../support/xmpp-client.js";

let s: SmsHarness;
let juliet: TestClient;

before(async () => {
  s = await startSmsHarness();
  juliet = await s.h.login("juliet");
  await joinSms(juliet, { number: s.numbers[0]! });
});
after(async () => {
  await s?.stop();
});

const receiptFor =
  (id: string) =>
  (stanza: { getChild(name: string, ns?: string): { attrs: Record<string, string> } | undefined }): boolean =>
    stanza.getChild("received", "urn:xmpp:receipts")?.attrs.id === id;
const sentTo = (to: string) => s.twilio.messages.filter((message) => message.to === to);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a delivery report that arrives before Twilio's answer to the send still becomes a receipt", async () => {
  s.twilio.autoStatus = "delivered";
  try {
    await juliet.send(chat(phoneJid("+14155550140"), "Fast carrier", "fast-1", xml("request", { xmlns: "urn:xmpp:receipts" })));
    const receipt = await juliet.waitFor(receiptFor("fast-1") as never, 8_000);
    assert.equal(receipt.attrs.from, phoneJid("+14155550140"));
  } finally {
    s.twilio.autoStatus = null;
  }
});

test("a message sent as two texts is confirmed only when both are delivered", async () => {
  const to = "+14155550141";
  const body = `${"first ".repeat(200)}${"second ".repeat(200)}`.trim();
  await juliet.send(chat(phoneJid(to), body, "long-1", xml("request", { xmlns: "urn:xmpp:receipts" })));
  await s.twilio.waitForMessages(s.twilio.messages.length + 2);
  await pause(200);
  assert.equal(sentTo(to).length, 2);
  const [one, two] = sentTo(to);
  assert.equal(await s.twilio.postStatus(one!.sid, "delivered"), 200);
  await pause(600);
  assert.equal(juliet.received.filter(receiptFor("long-1") as never).length, 0, "no receipt while a part is still on its way");
  assert.equal(await s.twilio.postStatus(two!.sid, "delivered"), 200);
  await juliet.waitFor(receiptFor("long-1") as never, 5_000);
});

test("when the second text of a long message fails for a while, only that text is sent again", async () => {
  const to = "+14155550142";
  const body = `${"alpha ".repeat(200)}${"omega ".repeat(200)}`.trim();
  s.twilio.failNext(1, 500, 1);
  await juliet.send(chat(phoneJid(to), body, "long-2"));
  const deadline = Date.now() + 8_000;
  while (sentTo(to).length < 2 && Date.now() < deadline) await pause(20);
  await pause(300);
  const texts = sentTo(to);
  assert.equal(texts.length, 2);
  assert.equal(texts.map((text) => text.body).join(" "), body);
});

test("a failed part of a long message comes back as an error naming the part", async () => {
  const to = "+14155550143";
  const body = `${"uno ".repeat(450)}${"dos ".repeat(100)}`.trim();
  await juliet.send(chat(phoneJid(to), body, "long-3"));
  await s.twilio.waitForMessages(s.twilio.messages.length + 2);
  const [, two] = sentTo(to);
  await s.twilio.postStatus(two!.sid, "undelivered", 30003);
  const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "long-3");
  assert.match(
    error.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas") ?? "",
    /Part 2 of 2 was not delivered\. The phone is unreachable/,
  );
});
