import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { registerSms, SMS, startSmsHarness, chat, phoneJid, type SmsHarness } from "./sms-harness.js";
import { errorCondition, errorText, xml, type TestClient } from "../support/xmpp-client.js";

let s: SmsHarness;

before(async () => {
  s = await startSmsHarness({ numbers: ["+14155550100", "+14155550101"] });
});
after(async () => {
  await s?.stop();
});

async function formNumbers(client: TestClient): Promise<string[]> {
  const reply = await client.iq(xml("iq", { type: "get", to: SMS }, xml("query", { xmlns: "jabber:iq:register" })));
  const field = reply
    .getChild("query")
    ?.getChild("x", "jabber:x:data")
    ?.getChildren("field")
    .find((candidate) => candidate.attrs.var === "number");
  return field?.getChildren("option").map((option) => option.getChildText("value") ?? "") ?? [];
}

test("operator mode: each user picks a free number from the form, and a taken number disappears from it", async () => {
  const juliet = await s.h.login("juliet");
  const romeo = await s.h.login("romeo");
  assert.deepEqual(await formNumbers(juliet), ["+14155550100", "+14155550101"]);
  const registered = await registerSms(juliet, { number: "+14155550101" });
  assert.equal(registered.attrs.type, "result", registered.toString());
  assert.deepEqual(await formNumbers(romeo), ["+14155550100"]);
  assert.deepEqual(await formNumbers(juliet), ["+14155550100", "+14155550101"], "a user still sees their own number");

  const taken = await registerSms(romeo, { number: "+14155550101" });
  assert.equal(taken.attrs.type, "error");
  assert.match(errorText(taken), /must be one of|already used/);

  assert.equal((await registerSms(romeo, { number: "+14155550100" })).attrs.type, "result");
  assert.deepEqual(await formNumbers(romeo), ["+14155550100"]);

  // Texts leave from each user's own number, and come back to the right user.
  await juliet.send(chat(phoneJid("+14155550123"), "from juliet", "r-1"));
  await romeo.send(chat(phoneJid("+14155550123"), "from romeo", "r-2"));
  const sent = await s.twilio.waitForMessages(2);
  assert.equal(sent.find((message) => message.body === "from juliet")?.from, "+14155550101");
  assert.equal(sent.find((message) => message.body === "from romeo")?.from, "+14155550100");
  s.operator.numbers.get("+14155550100")!.smsUrl = `http://127.0.0.1:${s.h.gateway.httpPort}/sms/${SMS}/incoming`;
  await s.twilio.sendInbound({ accountSid: s.operator.sid, from: "+14155550123", to: "+14155550100", body: "for romeo" });
  await romeo.waitFor((stanza) => stanza.getChildText("body") === "for romeo");
  assert.equal(juliet.messages().filter((stanza) => stanza.getChildText("body") === "for romeo").length, 0);
});

test("operator mode: unregistering frees the number for someone else", async () => {
  const juliet = await s.h.login("juliet", { resource: "second" });
  const reply = await juliet.iq(xml("iq", { type: "set", to: SMS }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))));
  assert.equal(reply.attrs.type, "result");
  const romeo = await s.h.login("romeo", { resource: "second" });
  assert.deepEqual(await formNumbers(romeo), ["+14155550100", "+14155550101"]);
});

test("operator mode: when every number is taken the user is told so", async () => {
  const juliet = await s.h.login("juliet", { resource: "third" });
  // juliet unregistered above; romeo holds +14155550100, so one number is still free: take it first.
  assert.equal((await registerSms(juliet, { number: "+14155550101" })).attrs.type, "result");
  await s.h.server.addUser("mercutio", "password");
  const mercutio = await s.h.login("mercutio");
  assert.deepEqual(await formNumbers(mercutio), []);
  const reply = await registerSms(mercutio, {});
  assert.equal(reply.attrs.type, "error");
  assert.ok(["resource-constraint", "not-acceptable"].includes(errorCondition(reply)), errorCondition(reply));
  assert.match(errorText(reply), /taken|required/);
});

test("the SMS gateway shows up as gateway/sms and turns a typed number into its contact JID", async () => {
  const romeo = await s.h.login("romeo", { resource: "disco" });
  const info = await romeo.iq(xml("iq", { type: "get", to: SMS }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
  const identity = info.getChild("query")?.getChild("identity");
  assert.equal(identity?.attrs.category, "gateway");
  assert.equal(identity?.attrs.type, "sms");

  const prompt = await romeo.iq(xml("iq", { type: "get", to: SMS }, xml("query", { xmlns: "jabber:iq:gateway" })));
  assert.equal(prompt.getChild("query")?.getChildText("prompt"), "Phone number");
  const translated = await romeo.iq(xml("iq", { type: "set", to: SMS }, xml("query", { xmlns: "jabber:iq:gateway" }, xml("prompt", {}, "(415) 555-0123"))));
  const jid = translated.getChild("query")?.getChildText("jid");
  assert.equal(jid, "+14155550123@sms.example.test");
  const refused = await romeo.iq(xml("iq", { type: "set", to: SMS }, xml("query", { xmlns: "jabber:iq:gateway" }, xml("prompt", {}, "not a number"))));
  assert.equal(refused.attrs.type, "error");
  assert.equal(errorCondition(refused), "jid-malformed");
});
