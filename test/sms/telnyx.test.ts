// Telnyx through its SDK: the requests it makes, the events it posts, and what the user sees.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, incomingUrl, joinSms, phoneJid, registerSms, SMS, statusUrl } from "./sms-harness.js";
import { startTelnyxHarness, type TelnyxHarness } from "./telnyx-harness.js";
import { xml, type TestClient } from "../support/xmpp-client.js";

let s: TelnyxHarness;
let juliet: TestClient;
const ROMEO = "+14155550123";

before(async () => {
  s = await startTelnyxHarness({ numbers: ["+14155550100", "+14155550101"] });
  juliet = await s.h.login("juliet");
});
after(async () => {
  await s?.stop();
});

const sentTo = (to: string) => s.telnyx.messages.filter((message) => message.to === to);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("the registration form lists the operator's free Telnyx numbers, and a taken one leaves the others' forms", async () => {
  const numbersIn = async (client: TestClient) => {
    const reply = await client.iq(xml("iq", { type: "get", to: SMS }, xml("query", { xmlns: "jabber:iq:register" })));
    const field = reply
      .getChild("query")
      ?.getChild("x", "jabber:x:data")
      ?.getChildren("field")
      .find((candidate) => candidate.attrs.var === "number");
    return field?.getChildren("option").map((option) => option.getChildText("value")) ?? [];
  };
  assert.deepEqual(await numbersIn(juliet), ["+14155550100", "+14155550101"]);
  await joinSms(juliet, { number: "+14155550101" });
  const romeo = await s.h.login("romeo");
  assert.deepEqual(await numbersIn(romeo), ["+14155550100"]);
  assert.equal((await registerSms(romeo, { number: "+14155550101" })).attrs.type, "error");
});

test("a text leaves through POST /v2/messages with the operator's API key, from, to, text, media_urls and webhook_url", async () => {
  await juliet.send(chat(phoneJid(ROMEO), "Through the SDK", "t-1", xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, "https://upload.example.org/a.jpg"))));
  await s.telnyx.waitForMessages(1);
  const request = s.telnyx.requests.find((entry) => entry.path === "/v2/messages")!;
  assert.equal(request.method, "POST");
  assert.equal(request.status, 200);
  assert.deepEqual(request.body, {
    from: "+14155550101",
    to: ROMEO,
    text: "Through the SDK",
    media_urls: ["https://upload.example.org/a.jpg"],
    webhook_url: statusUrl(s.h),
  });
  assert.equal(s.telnyx.messages[0]!.account, s.operator);
});

test("429 and 500 from Telnyx are retried until the text is accepted, and it leaves once", async () => {
  const to = "+14155550126";
  s.telnyx.failNext(1, 429);
  s.telnyx.failNext(1, 500);
  const before = s.telnyx.requests.length;
  await juliet.send(chat(phoneJid(to), "Eventually", "t-2"));
  const deadline = Date.now() + 10_000;
  while (sentTo(to).length === 0 && Date.now() < deadline) await pause(20);
  assert.equal(sentTo(to).length, 1);
  assert.deepEqual(
    s.telnyx.requests
      .slice(before)
      .filter((entry) => entry.path === "/v2/messages")
      .map((entry) => entry.status),
    [429, 500, 200],
  );
  await pause(300);
  assert.equal(sentTo(to).length, 1);
});

test("message.sent alone is no receipt; message.finalized with delivered is", async () => {
  const to = "+14155550127";
  await juliet.send(chat(phoneJid(to), "Receipt please", "t-3", xml("request", { xmlns: "urn:xmpp:receipts" })));
  await s.telnyx.waitForMessages(s.telnyx.messages.length + 1);
  const text = sentTo(to)[0]!;
  assert.equal(await s.telnyx.postStatus(text.id, "sent"), 200);
  await pause(500);
  const isReceipt = (stanza: { getChild(name: string, ns?: string): { attrs: Record<string, string> } | undefined }) =>
    stanza.getChild("received", "urn:xmpp:receipts")?.attrs.id === "t-3";
  assert.equal(juliet.received.filter(isReceipt as never).length, 0);
  assert.equal(await s.telnyx.postStatus(text.id, "delivered"), 200);
  await juliet.waitFor(isReceipt as never);
});

test("a message.received posted to the status URL is still delivered, and a status event at the incoming URL still counts", async () => {
  const result = await s.telnyx.sendInbound({ account: s.operator, from: ROMEO, to: "+14155550101", text: "Posted elsewhere", url: statusUrl(s.h) });
  assert.equal(result.status, 200);
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "Posted elsewhere");
  const to = "+14155550128";
  await juliet.send(chat(phoneJid(to), "Profile webhook", "t-4"));
  await s.telnyx.waitForMessages(s.telnyx.messages.length + 1);
  const text = sentTo(to)[0]!;
  text.webhookUrl = incomingUrl(s.h);
  assert.equal(await s.telnyx.postStatus(text.id, "delivery_failed", "40008"), 200);
  const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "t-4");
  assert.match(
    error.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas") ?? "",
    /could not deliver the text and gave no reason\. \(Telnyx error 40008\)/,
  );
});

test("a webhook signed for the future, or with another account's key, or altered after signing is refused", async () => {
  assert.equal(
    (await s.telnyx.sendInbound({ account: s.operator, from: ROMEO, to: "+14155550101", text: "from the future", signature: "future" })).status,
    403,
  );
  const other = s.telnyx.addAccount();
  s.telnyx.addNumber(other, "+14155550101");
  other.profile.webhookUrl = incomingUrl(s.h);
  assert.equal((await s.telnyx.sendInbound({ account: other, from: ROMEO, to: "+14155550101", text: "other account" })).status, 403);
  // Re-sent with one character changed: the signature no longer covers the body.
  const signed = await s.telnyx.sendInbound({ account: s.operator, from: ROMEO, to: "+14155550101", text: "original" });
  assert.equal(signed.status, 200);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const response = await fetch(incomingUrl(s.h), {
    method: "POST",
    headers: { "content-type": "application/json", "telnyx-timestamp": timestamp, "telnyx-signature-ed25519": Buffer.alloc(64, 1).toString("base64") },
    body: signed.body.replace("original", "altered!"),
  });
  assert.equal(response.status, 403);
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "original");
  await pause(300);
  assert.equal(juliet.messages().filter((stanza) => ["from the future", "other account", "altered!"].includes(stanza.getChildText("body") ?? "")).length, 0);
});

test("the same message.received posted twice is delivered once", async () => {
  const id = "b1a2c3d4-0000-4000-8000-000000000001";
  assert.equal((await s.telnyx.sendInbound({ account: s.operator, from: ROMEO, to: "+14155550101", text: "Only once", id })).status, 200);
  assert.equal((await s.telnyx.sendInbound({ account: s.operator, from: ROMEO, to: "+14155550101", text: "Only once", id })).status, 200);
  await s.telnyx.sendInbound({ account: s.operator, from: ROMEO, to: "+14155550101", text: "marker after twice" });
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "marker after twice");
  assert.equal(juliet.messages().filter((stanza) => stanza.getChildText("body") === "Only once").length, 1);
});

test("a form-encoded post is 415, and a signed event that is not a message event is acknowledged and ignored", async () => {
  const form = await fetch(incomingUrl(s.h), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "Body=hi" });
  assert.equal(form.status, 415);
  const event = {
    data: {
      event_type: "number_order.complete",
      id: "e1",
      occurred_at: new Date().toISOString(),
      payload: { direction: "inbound", to: [{ phone_number: "+14155550101" }] },
      record_type: "event",
    },
  };
  assert.equal((await s.telnyx.postSigned(incomingUrl(s.h), s.operator, event)).status, 200);
});
