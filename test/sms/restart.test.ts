import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { incomingUrl, joinSms, phoneJid, startSmsHarness, type SmsHarness } from "./sms-harness.js";

let s: SmsHarness;
const ROMEO = "+14155550123";

before(async () => {
  s = await startSmsHarness();
  const juliet = await s.h.login("juliet");
  await joinSms(juliet, { number: s.numbers[0]! });
  await juliet.stop();
});
after(async () => {
  await s?.stop();
});

test("a text acknowledged while the XMPP server is down reaches the user once after a gateway restart, even if Twilio posts it again", async () => {
  // The XMPP server goes away: the webhook can be stored, but not delivered.
  await s.h.server.stop();
  const sid = "SMrestartrestartrestartrestart0001";
  const first = await s.twilio.sendInbound({ accountSid: s.operator.sid, from: ROMEO, to: s.numbers[0]!, body: "Kept across a restart", messageSid: sid });
  assert.equal(first.status, 200, "Twilio is told 200 only once the text is stored");
  await s.h.stopGateway();

  await s.h.server.start();
  await s.h.startGateway();
  // Twilio retries the webhook after the restart (its own timeout): it must not arrive twice.
  for (const number of s.operator.numbers.values()) number.smsUrl = `http://127.0.0.1:${s.h.gateway.httpPort}/sms/sms.example.test/incoming`;
  const again = await s.twilio.sendInbound({ accountSid: s.operator.sid, from: ROMEO, to: s.numbers[0]!, body: "Kept across a restart", messageSid: sid });
  assert.equal(again.status, 200);
  await s.twilio.sendInbound({ accountSid: s.operator.sid, from: ROMEO, to: s.numbers[0]!, body: "marker" });

  // Juliet was offline the whole time: the server kept what the gateway delivered.
  const juliet = await s.h.login("juliet");
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "marker", 10_000);
  const kept = juliet.messages(phoneJid(ROMEO)).filter((stanza) => stanza.getChildText("body") === "Kept across a restart");
  assert.equal(kept.length, 1);
  // Offline again, so the next test's message waits in the server's offline store for its client.
  await juliet.stop();
});

test("an MMS acknowledged just before a restart arrives once after it, with its picture", async () => {
  const sid = "MMrestartrestartrestartrestart0002";
  const picture = Buffer.from("picture kept across a restart");
  // The picture's download hangs until the gateway has stopped.
  const release = s.twilio.holdMedia();
  try {
    const first = await s.twilio.sendInbound({
      accountSid: s.operator.sid,
      from: ROMEO,
      to: s.numbers[0]!,
      body: "MMS across a restart",
      messageSid: sid,
      media: [{ contentType: "image/jpeg", data: picture }],
    });
    assert.equal(first.status, 200);
    await s.h.stopGateway();
  } finally {
    release();
  }
  await s.h.startGateway();
  for (const number of s.operator.numbers.values()) number.smsUrl = incomingUrl(s.h);
  const juliet = await s.h.login("juliet", { resource: "mms" });
  const message = await juliet.waitFor((stanza) => (stanza.getChildText("body") ?? "").startsWith("MMS across a restart"), 10_000);
  const url = message.getChild("x", "jabber:x:oob")?.getChildText("url") ?? "";
  assert.deepEqual(Buffer.from(await (await fetch(url)).arrayBuffer()), picture);
  await s.twilio.sendInbound({
    accountSid: s.operator.sid,
    from: ROMEO,
    to: s.numbers[0]!,
    body: "MMS across a restart",
    messageSid: sid,
    media: [{ contentType: "image/jpeg", data: picture }],
  });
  await s.twilio.sendInbound({ accountSid: s.operator.sid, from: ROMEO, to: s.numbers[0]!, body: "marker 2" });
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "marker 2");
  assert.equal(juliet.messages().filter((stanza) => (stanza.getChildText("body") ?? "").startsWith("MMS across a restart")).length, 0);
});
