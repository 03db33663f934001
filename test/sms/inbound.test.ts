import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { bodyFrom, chat, incomingUrl, joinSms, phoneJid, startSmsHarness, statusUrl, type SmsHarness } from "./sms-harness.js";
import type { TestClient } from "../support/xmpp-client.js";

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

const inbound = (body: string, extra: Partial<Parameters<SmsHarness["twilio"]["sendInbound"]>[0]> = {}) =>
  s.twilio.sendInbound({ accountSid: s.operator.sid, from: ROMEO, to: s.numbers[0]!, body, ...extra });

test("a text to the user's number arrives as a chat message from the sender's phone JID, answered with empty TwiML", async () => {
  const result = await inbound("Hi Juliet");
  assert.equal(result.status, 200);
  assert.equal(result.text, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
  const message = await juliet.waitFor(bodyFrom(phoneJid(ROMEO)));
  assert.equal(message.getChildText("body"), "Hi Juliet");
  assert.equal(message.attrs.to?.split("/")[0], "juliet@example.test");
});

test("an MMS arrives with its picture served by the gateway at an unguessable URL, as OOB and in the body", async () => {
  const picture = Buffer.from("\x89PNG inbound picture");
  const result = await inbound("See this", { media: [{ contentType: "image/png", data: picture }] });
  assert.equal(result.status, 200);
  const message = await juliet.waitFor((stanza) => bodyFrom(phoneJid(ROMEO))(stanza) && (stanza.getChildText("body") ?? "").startsWith("See this"));
  const url = message.getChild("x", "jabber:x:oob")?.getChildText("url") ?? "";
  assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${s.h.gateway.httpPort}/media/[A-Za-z0-9_-]{32}/`));
  assert.ok(message.getChildText("body")!.includes(url));
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "image/png");
  assert.deepEqual(Buffer.from(await response.arrayBuffer()), picture);
  // The stand-in serves media only with the account's credentials: the gateway sent them.
  const mediaRequest = s.twilio.requests.find((entry) => entry.path.includes("/Media/"));
  assert.equal(mediaRequest?.status, 200);
});

test("an MMS is acknowledged before its picture is downloaded, and arrives once the picture is in", async () => {
  const release = s.twilio.holdMedia();
  try {
    // Answered while the download is still held: Twilio's 15-second limit does not depend on it.
    const result = await inbound("Slow picture", { media: [{ contentType: "image/gif", data: Buffer.from("GIF89a") }] });
    assert.equal(result.status, 200);
    assert.equal(juliet.messages().filter((stanza) => (stanza.getChildText("body") ?? "").startsWith("Slow picture")).length, 0);
  } finally {
    release();
  }
  const message = await juliet.waitFor((stanza) => (stanza.getChildText("body") ?? "").startsWith("Slow picture"), 8_000);
  assert.ok(message.getChild("x", "jabber:x:oob"));
});

test("a webhook with a forged signature is refused with 403 and delivers nothing", async () => {
  const forged = await inbound("forged", { signature: "forged" });
  assert.equal(forged.status, 403);
  const unsigned = await inbound("unsigned", { signature: "missing" });
  assert.equal(unsigned.status, 403);
  const otherAccount = s.twilio.addAccount();
  const wrongAccount = await s.twilio.sendInbound({
    accountSid: otherAccount.sid,
    from: ROMEO,
    to: s.numbers[0]!,
    body: "wrong account",
    url: incomingUrl(s.h),
  });
  assert.equal(wrongAccount.status, 403);
  await inbound("after the forgeries");
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "after the forgeries");
  assert.equal(juliet.messages().filter((stanza) => ["forged", "unsigned", "wrong account"].includes(stanza.getChildText("body") ?? "")).length, 0);
});

test("a signature made for another URL (a proxy rewriting the address) is refused", async () => {
  const params = {
    MessageSid: "SM0123456789abcdef0123456789abcdef",
    AccountSid: s.operator.sid,
    From: ROMEO,
    To: s.numbers[0]!,
    Body: "elsewhere",
    NumMedia: "0",
  };
  const { default: twilio } = await import("twilio");
  const signature = twilio.getExpectedTwilioSignature(s.operator.authToken, "https://elsewhere.example/sms/incoming", params);
  const response = await fetch(incomingUrl(s.h), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: new URLSearchParams(params).toString(),
  });
  assert.equal(response.status, 403);
});

test("a webhook Twilio posts again with the same MessageSid is delivered once", async () => {
  const first = await inbound("Only once", { messageSid: "SMreplayreplayreplayreplayreplay01" });
  const second = await inbound("Only once", { messageSid: "SMreplayreplayreplayreplayreplay01" });
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "Only once");
  await inbound("marker after replay");
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "marker after replay");
  assert.equal(juliet.messages().filter((stanza) => stanza.getChildText("body") === "Only once").length, 0);
});

test("a malformed webhook is answered 400, a wrong content type 415 and an oversized one 413", async () => {
  const params = { AccountSid: s.operator.sid, From: ROMEO, Body: "no MessageSid and no To" };
  const { default: twilio } = await import("twilio");
  const url = incomingUrl(s.h);
  const signature = twilio.getExpectedTwilioSignature(s.operator.authToken, url, params);
  const malformed = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: new URLSearchParams(params).toString(),
  });
  assert.equal(malformed.status, 400);
  const json = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  assert.equal(json.status, 415);
  const huge = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `Body=${"x".repeat(200_000)}` });
  assert.equal(huge.status, 413);
  const status = await fetch(statusUrl(s.h), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `Body=${"x".repeat(200_000)}`,
  });
  assert.equal(status.status, 413);
});

test("a contact replying STOP is shown as an opt-out, not just the word", async () => {
  await inbound("STOP", { optOutType: "STOP" });
  const message = await juliet.waitFor((stanza) => (stanza.getChildText("body") ?? "").startsWith("STOP"));
  assert.match(message.getChildText("body")!, /opted out of texts from your number/);
  await inbound("start");
  const back = await juliet.waitFor((stanza) => (stanza.getChildText("body") ?? "").startsWith("start"));
  assert.match(back.getChildText("body")!, /opted back in/);
});

test("a text from a short code arrives from the short code's JID, and a reply goes back to it", async () => {
  await inbound("Your code is 123456", { from: "89887" });
  const message = await juliet.waitFor(bodyFrom(phoneJid("89887")));
  assert.equal(message.getChildText("body"), "Your code is 123456");
  const before = s.twilio.messages.length;
  await juliet.send(chat(phoneJid("89887"), "HELP", "short-1"));
  const sent = await s.twilio.waitForMessages(before + 1);
  assert.equal(sent.at(-1)!.to, "89887");
});

test("texts from a sender's name or a national service number arrive, and a reply to the name says why it cannot go", async () => {
  // Banks and services outside North America text from alphanumeric sender IDs; such a From is no number.
  for (const [from, body] of [
    ["VM-AMAZON", "Your parcel is out for delivery"],
    ["1234567", "Service number text"],
  ]) {
    const result = await inbound(body!, { from });
    assert.equal(result.status, 200, `a text from ${from} is acknowledged`);
    const message = await juliet.waitFor((stanza) => stanza.getChildText("body") === body);
    assert.equal(message.attrs.from?.toLowerCase(), phoneJid(from!).toLowerCase());
  }
  const before = s.twilio.messages.length;
  await juliet.send(chat(phoneJid("VM-AMAZON"), "who is this?", "name-reply-1"));
  const refused = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "name-reply-1");
  assert.match(refused.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas") ?? "", /sender's name, not a phone number/);
  assert.equal(s.twilio.messages.length, before, "nothing was sent to Twilio");
});

test("a text to a number nobody holds is acknowledged and delivered to no one", async () => {
  const result = await inbound("to nobody", { to: s.numbers[1]! });
  assert.equal(result.status, 200);
  await inbound("marker after nobody");
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "marker after nobody");
  assert.equal(juliet.messages().filter((stanza) => stanza.getChildText("body") === "to nobody").length, 0);
});
