import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, joinSms, phoneJid, startSmsHarness, type SmsHarness } from "./sms-harness.js";
import { errorText, type TestClient } from "../support/xmpp-client.js";

let s: SmsHarness;
let juliet: TestClient;

before(async () => {
  s = await startSmsHarness({ extra: { dailyTextsPerUser: 3 } });
  juliet = await s.h.login("juliet");
  await joinSms(juliet, { number: s.numbers[0]! });
});
after(async () => {
  await s?.stop();
});

test("past the operator's daily number of texts, a message comes back with an error saying how many are left", async () => {
  await juliet.send(chat(phoneJid("+14155550160"), "one", "cap-1"));
  await juliet.send(chat(phoneJid("+14155550161"), "two", "cap-2"));
  await s.twilio.waitForMessages(2);
  // A long message needs two texts; only one is left today.
  await juliet.send(chat(phoneJid("+14155550162"), "long ".repeat(400).trim(), "cap-3"));
  const refused = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "cap-3");
  assert.match(errorText(refused), /3 texts a day; you have 1 left today and this message needs 2/);
  await juliet.send(chat(phoneJid("+14155550163"), "three", "cap-4"));
  await s.twilio.waitForMessages(3);
  await juliet.send(chat(phoneJid("+14155550164"), "four", "cap-5"));
  const last = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "cap-5");
  assert.match(errorText(last), /you have 0 left today/);
  assert.equal(s.twilio.messages.length, 3);
});

test("a burst of messages to many contacts at once sends no more texts than the day allows", async () => {
  const romeo = await s.h.login("romeo");
  await joinSms(romeo, { number: s.numbers[1]! });
  const before = s.twilio.messages.length;
  // Sent together, so that they are in flight at the same time.
  await Promise.all(
    Array.from({ length: 12 }, (_unused, index) =>
      romeo.send(chat(phoneJid(`+141555502${String(index).padStart(2, "0")}`), `burst ${index}`, `burst-${index}`)),
    ),
  );
  const refusals = async (): Promise<number> =>
    romeo.received.filter((stanza) => stanza.attrs.type === "error" && (stanza.attrs.id ?? "").startsWith("burst-") && /3 texts a day/.test(errorText(stanza)))
      .length;
  const deadline = Date.now() + 15_000;
  while ((await refusals()) < 9 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(s.twilio.messages.length - before, 3, "three texts left");
  assert.equal(await refusals(), 9, "each other message came back with the daily limit's error");
});
