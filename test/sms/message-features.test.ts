// Corrections, reactions, retractions and chat states between a Jabber client and phones, through a
// real Prosody, the gateway with the SMS transport and the Twilio stand-in: what Twilio gets, what
// the client gets back.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { bodyFrom, chat, joinSms, phoneJid, startSmsHarness, type SmsHarness } from "./sms-harness.js";
import { errorCondition, errorText, xml, type Element, type TestClient } from "../support/xmpp-client.js";

const NS = {
  correct: "urn:xmpp:message-correct:0",
  reactions: "urn:xmpp:reactions:0",
  retract: "urn:xmpp:message-retract:1",
  chatStates: "http://jabber.org/protocol/chatstates",
  fallback: "urn:xmpp:fallback:0",
  disco: "http://jabber.org/protocol/disco#info",
};

let s: SmsHarness;
let juliet: TestClient;
let next = 100;
/** A phone number of its own for each test, so that what Twilio got is easy to tell apart. */
const newPhone = (): string => `+1415555${String(next++).padStart(4, "0")}`;

before(async () => {
  s = await startSmsHarness();
  juliet = await s.h.login("juliet");
  await joinSms(juliet, { number: s.numbers[0]! });
});
after(async () => {
  await s?.stop();
});

const textsTo = (phone: string): string[] => s.twilio.messages.filter((message) => message.to === phone).map((message) => message.body);

/** Sends a plain text and waits until Twilio has it: everything the user sent before is handled. */
async function sendAndWait(phone: string, body: string, id: string, ...children: Element[]): Promise<void> {
  const count = textsTo(phone).length;
  await juliet.send(chat(phoneJid(phone), body, id, ...children));
  const deadline = Date.now() + 10_000;
  while (textsTo(phone).length <= count) {
    if (Date.now() > deadline) throw new Error(`Twilio did not get "${body}"; it has ${JSON.stringify(textsTo(phone))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An iq to the contact, answered after everything the user sent before it: a barrier. */
async function barrier(phone: string): Promise<void> {
  await juliet.iq(xml("iq", { type: "get", to: phoneJid(phone) }, xml("query", { xmlns: NS.disco })));
}

const errorsFrom = (phone: string): Element[] =>
  juliet.received.filter((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.from === phoneJid(phone));

const message = (phone: string, id: string, ...children: Element[]): Element => xml("message", { to: phoneJid(phone), type: "chat", id }, ...children);
const reactions = (id: string, ...emojis: string[]): Element =>
  xml("reactions", { xmlns: NS.reactions, id }, ...emojis.map((emoji) => xml("reaction", {}, emoji)));

test("chat states alone send no text and bring no error; with a body, the body goes", async () => {
  const phone = newPhone();
  for (const state of ["active", "composing", "paused", "inactive", "gone"])
    await juliet.send(message(phone, `cs-${state}`, xml(state, { xmlns: NS.chatStates })));
  await barrier(phone);
  await sendAndWait(phone, "Hello with a state", "cs-body", xml("active", { xmlns: NS.chatStates }));
  await barrier(phone);
  assert.deepEqual(textsTo(phone), ["Hello with a state"]);
  assert.deepEqual(errorsFrom(phone), []);
});

test("the contact's disco says corrections, reactions and retractions are handled, chat states not", async () => {
  const reply = await juliet.iq(xml("iq", { type: "get", to: phoneJid(newPhone()) }, xml("query", { xmlns: NS.disco })));
  const features = reply
    .getChild("query")!
    .getChildren("feature")
    .map((feature) => feature.attrs.var);
  for (const feature of [NS.correct, NS.reactions, NS.retract]) assert.ok(features.includes(feature), feature);
  assert.ok(!features.includes(NS.chatStates));
});

test("a correction leaves as a new text marked as a correction", async () => {
  const phone = newPhone();
  await sendAndWait(phone, "Meet at 8", "fix-1");
  await sendAndWait(phone, "Meet at 9", "fix-2", xml("replace", { xmlns: NS.correct, id: "fix-1" }));
  assert.deepEqual(textsTo(phone), ["Meet at 8", "Correction: Meet at 9"]);
});

test("a correction of a message never sent still goes, marked, and nothing fails", async () => {
  const phone = newPhone();
  await sendAndWait(phone, "New text", "fix-3", xml("replace", { xmlns: NS.correct, id: "never-sent" }));
  assert.deepEqual(textsTo(phone), ["Correction: New text"]);
  await barrier(phone);
  assert.deepEqual(errorsFrom(phone), []);
});

test("a reaction to the user's own text leaves as the line phones show, quoting it", async () => {
  const phone = newPhone();
  await sendAndWait(phone, "Dinner at the usual place?", "own-1");
  await sendAndWait(phone, "👍", "own-2", reactions("own-1", "👍"), xml("fallback", { xmlns: NS.fallback, for: NS.reactions }));
  assert.deepEqual(textsTo(phone), ["Dinner at the usual place?", 'Reacted 👍 to "Dinner at the usual place?"']);
});

test("a reaction to a text the contact sent quotes that text (cut when long)", async () => {
  const phone = newPhone();
  const long = "I will be late tonight because the train from Mantua is stuck again outside the station";
  await s.twilio.sendInbound({ accountSid: s.operator.sid, from: phone, to: s.numbers[0]!, body: long });
  const received = await juliet.waitFor(bodyFrom(phoneJid(phone)));
  await juliet.send(message(phone, "in-1", reactions(received.attrs.id!, "😢")));
  const deadline = Date.now() + 10_000;
  while (textsTo(phone).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(textsTo(phone), ['Reacted 😢 to "I will be late tonight because the train from Mantua is…"']);
});

test("a reaction to an unknown message says so; only added reactions go; taking them away sends nothing", async () => {
  const phone = newPhone();
  await sendAndWait(phone, "", "un-1", reactions("nowhere", "👍"));
  await juliet.send(message(phone, "un-2", reactions("nowhere", "👍")));
  await sendAndWait(phone, "", "un-3", reactions("nowhere", "👍", "🎉"));
  await juliet.send(message(phone, "un-4", reactions("nowhere")));
  await barrier(phone);
  await sendAndWait(phone, "done", "un-5");
  assert.deepEqual(textsTo(phone), ["Reacted 👍 to a message", "Reacted 🎉 to a message", "done"]);
  assert.deepEqual(errorsFrom(phone), []);
});

test("hostile reactions are refused in words and nothing leaves; the gateway stays up", async () => {
  const phone = newPhone();
  await sendAndWait(phone, "Target", "h-0");
  await juliet.send(message(phone, "h-1", reactions("h-0", "x".repeat(10_000))));
  const huge = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "h-1");
  assert.equal(errorCondition(huge), "not-acceptable");
  assert.match(errorText(huge), /one emoji/);
  const many = Array.from({ length: 500 }, (_unused, index) => String.fromCodePoint(0x1f600 + (index % 80)) + String.fromCodePoint(0x1f3fb + (index % 5)));
  await juliet.send(message(phone, "h-2", reactions("h-0", ...many)));
  const tooMany = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "h-2");
  assert.match(errorText(tooMany), /at most 20 reactions/);
  await juliet.send(message(phone, "h-3", xml("reactions", { xmlns: NS.reactions, id: "i".repeat(10_000) }, xml("reaction", {}, "👍"))));
  const longId = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "h-3");
  assert.equal(errorCondition(longId), "bad-request");
  await juliet.send(message(phone, "h-4", xml("reactions", { xmlns: NS.reactions }, xml("reaction", {}, "👍"))));
  const noId = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "h-4");
  assert.match(errorText(noId), /which message/);
  // 500 copies of one emoji are one reaction.
  await sendAndWait(phone, "", "h-5", reactions("h-0", ...Array.from({ length: 500 }, () => "👍")));
  assert.deepEqual(textsTo(phone), ["Target", 'Reacted 👍 to "Target"']);
  assert.equal(s.h.gateway.services[0]!.link.state, "online");
});

test("a retraction leaves as a short note quoting the message, never as the client's fallback text", async () => {
  const phone = newPhone();
  await sendAndWait(phone, "Wrong person, sorry", "rt-1");
  await sendAndWait(
    phone,
    "This person attempted to retract a previous message, but it's unsupported by your client.",
    "rt-2",
    xml("retract", { xmlns: NS.retract, id: "rt-1" }),
    xml("fallback", { xmlns: NS.fallback, for: NS.retract }),
    xml("nick", { xmlns: "http://jabber.org/protocol/nick" }, "Juliet"),
  );
  assert.deepEqual(textsTo(phone), ["Wrong person, sorry", '(Juliet deleted a message: "Wrong person, sorry")']);
});

test("a retraction of a message the gateway never sent sends nothing and brings no error", async () => {
  const phone = newPhone();
  await juliet.send(message(phone, "rt-3", xml("retract", { xmlns: NS.retract, id: "never-sent" })));
  await barrier(phone);
  await sendAndWait(phone, "after", "rt-4");
  assert.deepEqual(textsTo(phone), ["after"]);
  assert.deepEqual(errorsFrom(phone), []);
});

test("a phone's reaction text to the user's message arrives as a XEP-0444 reaction with the text as fallback", async () => {
  const phone = newPhone();
  await sendAndWait(phone, "See you at eight", "rx-1", xml("origin-id", { xmlns: "urn:xmpp:sid:0", id: "rx-origin-1" }));
  await sendAndWait(phone, "Bring the book", "rx-2");
  const forms: Array<[string, string]> = [
    ["Liked “See you at eight”", "👍"],
    ["Laughed at “Bring the book”", "😂"],
    ['Reacted 🎉 to "See you at eight"', "🎉"],
    ['❤️ to "Bring the book"', "❤️"],
  ];
  for (const [text, emoji] of forms) {
    await s.twilio.sendInbound({ accountSid: s.operator.sid, from: phone, to: s.numbers[0]!, body: text });
    const got = await juliet.waitFor((stanza) => bodyFrom(phoneJid(phone))(stanza) && stanza.getChildText("body") === text);
    const reaction = got.getChild("reactions", NS.reactions);
    assert.ok(reaction, text);
    assert.equal(reaction.attrs.id, text.includes("eight") ? "rx-origin-1" : "rx-2");
    assert.deepEqual(
      reaction.getChildren("reaction").map((child) => child.getText()),
      [emoji],
    );
    assert.equal(got.getChild("fallback", NS.fallback)?.attrs.for, NS.reactions);
  }
});

test("a phone's reaction to a correction it got finds the corrected message", async () => {
  const phone = newPhone();
  await sendAndWait(phone, "Meet at 8", "rxc-1");
  await sendAndWait(phone, "Meet at 9", "rxc-2", xml("replace", { xmlns: NS.correct, id: "rxc-1" }));
  await s.twilio.sendInbound({ accountSid: s.operator.sid, from: phone, to: s.numbers[0]!, body: "Liked “Correction: Meet at 9”" });
  const got = await juliet.waitFor((stanza) => bodyFrom(phoneJid(phone))(stanza) && stanza.getChildText("body") === "Liked “Correction: Meet at 9”");
  assert.equal(got.getChild("reactions", NS.reactions)?.attrs.id, "rxc-1");
});

test("a reaction text quoting nothing the user sent arrives as an ordinary text", async () => {
  const phone = newPhone();
  await sendAndWait(phone, "Something", "rx-3");
  await s.twilio.sendInbound({ accountSid: s.operator.sid, from: phone, to: s.numbers[0]!, body: "Loved “a film I saw”" });
  const got = await juliet.waitFor((stanza) => bodyFrom(phoneJid(phone))(stanza) && stanza.getChildText("body") === "Loved “a film I saw”");
  assert.equal(got.getChild("reactions", NS.reactions), undefined);
  assert.equal(got.getChild("fallback", NS.fallback), undefined);
});

test("unregistering forgets the texts kept for quoting: afterwards nothing of them is quoted or matched", async () => {
  const phone = newPhone();
  await sendAndWait(phone, "The secret plan", "gone-1");
  const removed = await juliet.iq(xml("iq", { type: "set", to: "sms.example.test" }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))));
  assert.equal(removed.attrs.type, "result");
  await joinSms(juliet, { number: s.numbers[0]! });
  await sendAndWait(phone, "", "gone-2", reactions("gone-1", "👍"));
  assert.deepEqual(textsTo(phone), ["The secret plan", "Reacted 👍 to a message"]);
  await s.twilio.sendInbound({ accountSid: s.operator.sid, from: phone, to: s.numbers[0]!, body: "Liked “The secret plan”" });
  const got = await juliet.waitFor((stanza) => bodyFrom(phoneJid(phone))(stanza) && stanza.getChildText("body") === "Liked “The secret plan”");
  assert.equal(got.getChild("reactions", NS.reactions), undefined);
});
