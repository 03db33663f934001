import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, joinSms, phoneJid, startSmsHarness, statusUrl, type SmsHarness } from "./sms-harness.js";
import { errorCondition, errorText, xml, type TestClient } from "../support/xmpp-client.js";
import { refuseKeyWrites } from "../support/postgres.js";

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

const sentTo = (to: string) => s.twilio.messages.filter((message) => message.to === to);

test("a chat message to a phone JID leaves as a text from the user's number, with a status callback", async () => {
  await juliet.send(chat(phoneJid(ROMEO), "Hello Romeo", "out-1"));
  const [message] = await s.twilio.waitForMessages(1);
  assert.equal(message!.to, ROMEO);
  assert.equal(message!.from, s.numbers[0]);
  assert.equal(message!.body, "Hello Romeo");
  assert.equal(message!.statusCallback, statusUrl(s.h));
  const request = s.twilio.requests.find((entry) => entry.path.endsWith("/Messages.json"))!;
  assert.equal(request.path, `/2010-04-01/Accounts/${s.operator.sid}/Messages.json`);
});

test("a number typed in national format reaches the same E.164 number", async () => {
  const before = sentTo(ROMEO).length;
  await juliet.send(chat(phoneJid("(415)\\20555-0123"), "National format", "out-2"));
  await s.twilio.waitForMessages(before + 1);
  assert.equal(sentTo(ROMEO).at(-1)!.body, "National format");
});

test("a 3,000-character message arrives as two texts split between words, nothing lost", async () => {
  const words = Array.from({ length: 400 }, (_unused, index) => `w${index}-lorem`)
    .join(" ")
    .slice(0, 3000);
  const body = words.slice(0, words.lastIndexOf(" "));
  const to = "+14155550124";
  await juliet.send(chat(phoneJid(to), body, "out-3"));
  await s.twilio.waitForMessages(s.twilio.messages.length + 2);
  const texts = sentTo(to);
  assert.equal(texts.length, 2);
  for (const text of texts) assert.ok(text.body.length <= 1600);
  assert.equal(texts.map((text) => text.body).join(" "), body);
});

test("an OOB attachment leaves as MMS media that Twilio can fetch", async () => {
  const to = "+14155550125";
  // A picture on the user's upload service (XEP-0363), which Twilio fetches without credentials.
  const publicMedia = await hostPublicly(Buffer.from("\x89PNG picture"), "image/png");
  await juliet.send(chat(phoneJid(to), "Look", "out-4", xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, publicMedia.url))));
  await s.twilio.waitForMessages(s.twilio.messages.length + 1);
  const text = sentTo(to)[0]!;
  assert.deepEqual(text.mediaUrls, [publicMedia.url]);
  assert.equal(text.body, "Look");
  const deadline = Date.now() + 5_000;
  while (text.fetchedMedia.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(text.fetchedMedia[0]?.status, 200);
  assert.equal(text.fetchedMedia[0]?.bytes.toString(), "\x89PNG picture");
  await publicMedia.stop();
});

test("429 and 500 from Twilio are retried until the text is accepted, and it leaves once", async () => {
  const to = "+14155550126";
  s.twilio.failNext(2, 429);
  s.twilio.failNext(1, 500);
  const requestsBefore = s.twilio.requests.length;
  await juliet.send(chat(phoneJid(to), "Eventually", "out-5"));
  const deadline = Date.now() + 10_000;
  while (sentTo(to).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(sentTo(to).length, 1);
  const tried = s.twilio.requests.slice(requestsBefore).filter((entry) => entry.path.endsWith("/Messages.json"));
  assert.deepEqual(
    tried.map((entry) => entry.status),
    [429, 429, 500, 201],
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(sentTo(to).length, 1);
});

test("a delivered text comes back as a XEP-0184 receipt", async () => {
  const to = "+14155550127";
  await juliet.send(chat(phoneJid(to), "Tell me it arrived", "out-6", xml("request", { xmlns: "urn:xmpp:receipts" })));
  await s.twilio.waitForMessages(s.twilio.messages.length + 1);
  const text = sentTo(to)[0]!;
  assert.equal(await s.twilio.postStatus(text.sid, "sent"), 200);
  assert.equal(await s.twilio.postStatus(text.sid, "delivered"), 200);
  const receipt = await juliet.waitFor((stanza) => stanza.getChild("received", "urn:xmpp:receipts")?.attrs.id === "out-6");
  assert.equal(receipt.attrs.from, phoneJid(to));
});

const failures: Array<[number, "failed" | "undelivered", RegExp]> = [
  [30003, "undelivered", /unreachable/],
  [30005, "undelivered", /unknown or no longer in service/],
  [30006, "undelivered", /landline/],
  [30007, "undelivered", /filtered/],
  [21610, "failed", /opted out/],
];
for (const [code, state, words] of failures) {
  test(`a text that ends ${state} with error ${code} comes back as an error message saying why`, async () => {
    const to = `+1415555${String(code).slice(-4)}`;
    const id = `fail-${code}`;
    await juliet.send(chat(phoneJid(to), `About ${code}`, id));
    await s.twilio.waitForMessages(s.twilio.messages.length + 1);
    const text = sentTo(to)[0]!;
    assert.equal(await s.twilio.postStatus(text.sid, state, code), 200);
    const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === id);
    assert.equal(error.attrs.from, phoneJid(to));
    assert.match(errorText(error), words);
    assert.match(errorText(error), new RegExp(String(code)));
    assert.equal(error.getChildText("body"), `About ${code}`);
  });
}

test("a text that ends undelivered without an error code still comes back as an error saying so", async () => {
  const to = "+14155559999";
  await juliet.send(chat(phoneJid(to), "No reason given", "fail-nocode"));
  await s.twilio.waitForMessages(s.twilio.messages.length + 1);
  assert.equal(await s.twilio.postStatus(sentTo(to)[0]!.sid, "undelivered"), 200);
  const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "fail-nocode");
  assert.match(errorText(error), /Twilio reports the text as undelivered and gives no reason/);
});

const refusals: Array<[number, RegExp]> = [
  [21211, /not a valid phone number/],
  [21610, /opted out/],
  [21408, /not allowed to text this country/],
  [21614, /not a mobile number/],
];
for (const [code, words] of refusals) {
  test(`Twilio refusing a text at once with ${code} is an error message, not a retry`, async () => {
    const to = `+1415556${String(code).slice(-4)}`;
    s.twilio.refuse(to, code);
    const id = `refused-${code}`;
    const requestsBefore = s.twilio.requests.length;
    await juliet.send(chat(phoneJid(to), "Refused", id));
    const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === id);
    assert.match(errorText(error), words);
    assert.equal(errorCondition(error), "undefined-condition");
    assert.equal(s.twilio.requests.slice(requestsBefore).filter((entry) => entry.path.endsWith("/Messages.json")).length, 1);
    const metrics = await (await fetch(`http://127.0.0.1:${s.h.gateway.httpPort}/metrics`)).text();
    assert.match(metrics, new RegExp(`^switchboard_provider_errors_total\\{transport="sms",code="${code}"\\} 1$`, "m"));
  });
}

test("an address that is not a phone number is refused as jid-malformed with a sentence", async () => {
  await juliet.send(chat(`hello@sms.example.test`, "Hi", "bad-1"));
  const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "bad-1");
  assert.equal(errorCondition(error), "jid-malformed");
  assert.match(errorText(error), /not a phone number/);
});

async function hostPublicly(data: Buffer, contentType: string): Promise<{ url: string; stop(): Promise<void> }> {
  const { createServer } = await import("node:http");
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": contentType });
    res.end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as import("node:net").AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/upload/picture.png`, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

test("a text Twilio took goes once even when the store cannot record it afterwards", async () => {
  const to = "+14155550131";
  // The store refuses the transport's record of the text's provider id, written after Twilio took it.
  await refuseKeyWrites(s.h.config.store.uri, "sent-parts", true);
  try {
    await juliet.send(chat(phoneJid(to), "taken, then unrecorded", "out-unrecorded"));
    await s.twilio.waitForMessages(s.twilio.messages.length + 1);
    // Longer than the outbox's first retry (2 s) and the first record retries.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
  } finally {
    await refuseKeyWrites(s.h.config.store.uri, "sent-parts", false);
  }
  await juliet.send(chat(phoneJid(to), "marker after", "out-unrecorded-marker"));
  const deadline = Date.now() + 10_000;
  while (sentTo(to).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(
    sentTo(to).map((text) => text.body),
    ["taken, then unrecorded", "marker after"],
  );
  const errors = juliet.received.filter((stanza) => stanza.attrs.type === "error" && stanza.attrs.id?.startsWith("out-unrecorded"));
  assert.deepEqual(errors.map(String), []);
});
