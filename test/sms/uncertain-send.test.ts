// A process killed after handing a text to Twilio, before recording Twilio's answer, leaves the
// message in the outbox claimed by it. The next holder asks Twilio what the number sent the contact
// lately and sends only what Twilio does not have. The dead process's state is written into the
// store as it would have left it (outbox rows it claimed; the texts it had handed over are at the
// stand-in), then the gateway starts on that store.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../src/log.js";
import { openStore } from "../../src/store/store.js";
import type { OutboxEntry } from "../../src/gateway/delivery/outbox.js";
import { splitBody } from "../../transports/sms/segments.js";
import { chat, joinSms, phoneJid, startSmsHarness, statusUrl, type SmsHarness } from "./sms-harness.js";
import type { TestClient } from "../support/xmpp-client.js";
import type { BareJid } from "../../src/xmpp/jid.js";

let s: SmsHarness;
let juliet: TestClient;
const ROMEO = "+14155550123";
const JULIET = "juliet@example.test" as BareJid;

before(async () => {
  s = await startSmsHarness();
  juliet = await s.h.login("juliet");
  await joinSms(juliet, { number: s.numbers[0]! });
});
after(async () => {
  await s?.stop();
});

const atTwilio = (body: string): number => s.twilio.messages.filter((message) => message.to === ROMEO && message.body === body).length;

/** What the dead process had done: a text handed to Twilio by the API, as its send did. */
async function handedOver(body: string): Promise<string> {
  const response = await fetch(`${s.twilio.baseUrl}/2010-04-01/Accounts/${s.operator.sid}/Messages.json`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`${s.operator.sid}:${s.operator.authToken}`).toString("base64")}` },
    body: new URLSearchParams({ To: ROMEO, From: s.numbers[0]!, Body: body }),
  });
  assert.equal(response.status, 201);
  return ((await response.json()) as { sid: string }).sid;
}

/** Outbox rows as a process killed while sending them leaves them: claimed by it, not finished. */
async function leftByTheKilledProcess(messages: Array<{ name: string; body: string; receipt?: boolean }>): Promise<void> {
  const store = await openStore(s.h.config.store.uri, createLogger("silent"));
  try {
    const ledger = store.ledger.forTransport("sms");
    const now = Date.now();
    for (const { name, body, receipt } of messages) {
      const entry: OutboxEntry = {
        message: {
          id: `uncertain-${name}`,
          user: JULIET,
          peer: ROMEO,
          body,
          attachments: [],
          sentAt: new Date(now - 1_000).toISOString(),
          sourceId: `stanza-${name}`,
        },
        replyTo: juliet.fullJid,
        contactJid: phoneJid(ROMEO),
        wantsReceipt: receipt ?? false,
        attempts: 0,
        firstAttemptAt: now - 1_000,
        nextAttemptAt: now - 1_000,
      };
      const claim = { owner: "the-killed-process", until: now + 300_000 };
      assert.equal(await ledger.outboxAdd(entry.message.id, JULIET, ROMEO, now - 1_000, entry, now, claim), true);
    }
  } finally {
    await store.close();
  }
}

const LOOKUP = /\/Messages\.json$/;

/** Stops the gateway, leaves one message as a killed process would, readies Twilio with `prepare`,
 *  and starts the gateway again until it has sent one text. */
async function restartWithOneLeft(body: string, prepare: () => void): Promise<void> {
  await s.h.stopGateway();
  await leftByTheKilledProcess([{ name: body.toLowerCase().replace(/\W+/g, "-"), body }]);
  prepare();
  const sentBefore = s.twilio.messages.length;
  await s.h.startGateway();
  await s.twilio.waitForMessages(sentBefore + 1, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
}

test("after a crash between Twilio's answer and its record, only what Twilio does not have is sent again", async () => {
  // Sent and recorded before the crash: the same words, written again by the user, must still go.
  await juliet.send(chat(phoneJid(ROMEO), "On my way", "before-1"));
  await s.twilio.waitForMessages(1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await s.h.stopGateway();

  const long = `${"first ".repeat(200)}${"second ".repeat(200)}`.trim();
  const [firstPart, secondPart] = splitBody(long, 1_600);
  assert.ok(firstPart && secondPart);
  const handed = await handedOver("Handed over, answer lost");
  await handedOver(firstPart);

  await leftByTheKilledProcess([
    { name: "handed", body: "Handed over, answer lost", receipt: true },
    { name: "never", body: "Never reached Twilio" },
    { name: "again", body: "On my way" },
    { name: "long", body: long },
  ]);

  const sentBefore = s.twilio.messages.length;
  await s.h.startGateway();
  await s.twilio.waitForMessages(sentBefore + 3, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(atTwilio("Handed over, answer lost"), 1, "the text Twilio had is not sent again");
  assert.equal(atTwilio("Never reached Twilio"), 1, "the text Twilio did not have is sent");
  assert.equal(atTwilio("On my way"), 2, "a text on record as another message's does not stand for this one");
  assert.equal(atTwilio(firstPart), 1, "the part Twilio had is not sent again");
  assert.equal(atTwilio(secondPart), 1, "the part it did not have is sent");

  // The text found at Twilio is on record again: its delivery report becomes Juliet's receipt.
  // The dead process named its status URL when it sent; here the restarted listener has a new port.
  s.twilio.messages.find((message) => message.sid === handed)!.statusCallback = statusUrl(s.h);
  assert.equal(await s.twilio.postStatus(handed, "delivered"), 200);
  const receipt = await juliet.waitFor((stanza) => stanza.getChild("received", "urn:xmpp:receipts")?.attrs.id === "stanza-handed", 8_000);
  assert.equal(receipt.attrs.from, phoneJid(ROMEO));
  assert.equal(juliet.received.filter((stanza) => stanza.attrs.type === "error").length, 0);
});

test("when Twilio cannot answer the look-up, the message waits and goes once Twilio answers", async () => {
  const asked = s.twilio.requests.length;
  // Twilio is failing when the gateway comes back: the look-up fails twice.
  await restartWithOneLeft("Sent once Twilio lists", () => s.twilio.failMatching(2, "GET", LOOKUP, 503));
  assert.equal(atTwilio("Sent once Twilio lists"), 1);
  const lookups = s.twilio.requests.slice(asked).filter((request) => request.method === "GET" && request.path.endsWith("/Messages.json"));
  assert.deepEqual(
    lookups.map((request) => request.status),
    [503, 503, 200],
    "asked again after each failure",
  );
  assert.equal(juliet.received.filter((stanza) => stanza.attrs.type === "error").length, 0, "a failed look-up is retried, not bounced");
});

test("when Twilio refuses the look-up itself, the message is sent as before rather than held", async () => {
  await restartWithOneLeft("Sent though the list is refused", () => s.twilio.failMatching(1, "GET", LOOKUP, 403));
  assert.equal(atTwilio("Sent though the list is refused"), 1);
  assert.equal(juliet.received.filter((stanza) => stanza.attrs.type === "error").length, 0, "the user is not told the text was refused");
});

test("a text whose answer was cut off is looked up at Twilio before it is tried again, and sent once", async () => {
  const asked = s.twilio.requests.length;
  s.twilio.loseAnswers(1);
  await juliet.send(chat(phoneJid(ROMEO), "Answer lost on the way back", "lost-1"));
  // The retry first asks Twilio what the number sent Romeo lately, and finds the text there.
  const deadline = Date.now() + 15_000;
  const lookedUp = () => s.twilio.requests.slice(asked).some((request) => request.method === "GET" && LOOKUP.test(request.path) && request.status === 200);
  while (!lookedUp() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(lookedUp(), "the retry asked Twilio what it already has");
  await juliet.send(chat(phoneJid(ROMEO), "Next text after the lost answer", "lost-2"));
  const until = Date.now() + 10_000;
  while (atTwilio("Next text after the lost answer") === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(atTwilio("Answer lost on the way back"), 1, "Twilio got the text once");
  assert.equal(atTwilio("Next text after the lost answer"), 1);
  assert.equal(juliet.received.filter((stanza) => stanza.attrs.type === "error").length, 0, "the user is not told of a failure");
});
