import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { joinSms, phoneJid, startSmsHarness, type SmsHarness } from "./sms-harness.js";

let s: SmsHarness;

before(async () => {
  s = await startSmsHarness();
  const juliet = await s.h.login("juliet");
  await joinSms(juliet, { number: s.numbers[0]! });
  await juliet.stop();
});
after(async () => {
  await s?.stop();
});

test("150 texts posted at once, a quarter of them twice, reach the user exactly once each", async () => {
  const juliet = await s.h.login("juliet", { resource: "burst" });
  const count = 150;
  const sids = Array.from({ length: count }, (_unused, index) => `SM${String(index).padStart(32, "0")}`);
  const post = (index: number) =>
    s.twilio.sendInbound({
      accountSid: s.operator.sid,
      from: `+1415555${String(1000 + (index % 50)).padStart(4, "0")}`,
      to: s.numbers[0]!,
      body: `burst ${index}`,
      messageSid: sids[index]!,
    });
  const results = await Promise.all([...sids.keys()].flatMap((index) => (index % 4 === 0 ? [post(index), post(index)] : [post(index)])));
  assert.deepEqual([...new Set(results.map((result) => result.status))], [200]);

  const deadline = Date.now() + 30_000;
  const bodies = () =>
    juliet
      .messages()
      .map((stanza) => stanza.getChildText("body") ?? "")
      .filter((body) => body.startsWith("burst "));
  while (new Set(bodies()).size < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  // Give doubles a moment to show up if there were any.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const received = bodies();
  assert.equal(new Set(received).size, count, "every text arrived");
  assert.equal(received.length, count, "no text arrived twice");
  assert.ok(juliet.messages().every((stanza) => !stanza.attrs.from?.startsWith("burst")));
  assert.equal(juliet.messages(phoneJid("+14155551000")).length, count / 50);
});
