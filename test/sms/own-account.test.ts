import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, incomingUrl, joinSms, phoneJid, registerSms, SMS, startSmsHarness, type SmsHarness } from "./sms-harness.js";
import { errorCondition, errorText, xml } from "../support/xmpp-client.js";
import type { StandinAccount } from "../support/twilio-standin.js";
import { storedText } from "../support/postgres.js";

let s: SmsHarness;
let account: StandinAccount;
const OWN = "+14155550199";
const ROMEO = "+14155550123";

before(async () => {
  s = await startSmsHarness({ operator: false, ownAccounts: true });
  account = s.twilio.addAccount();
  s.twilio.addNumber(account, OWN);
});
after(async () => {
  await s?.stop();
});

test("the registration form asks for an Account SID, Auth Token and number", async () => {
  const juliet = await s.h.login("juliet", { resource: "form" });
  const reply = await juliet.iq(xml("iq", { type: "get", to: SMS }, xml("query", { xmlns: "jabber:iq:register" })));
  const fields = reply.getChild("query")?.getChild("x", "jabber:x:data")?.getChildren("field") ?? [];
  const byName = Object.fromEntries(fields.map((field) => [field.attrs.var, field.attrs.type]));
  assert.equal(byName.accountSid, "text-single");
  assert.equal(byName.authToken, "text-private");
  assert.equal(byName.ownNumber, "text-single");
  assert.equal(byName.number, undefined);
});

test("a wrong Auth Token is refused as not-authorized with a sentence, and nothing is changed at Twilio", async () => {
  const juliet = await s.h.login("juliet", { resource: "bad" });
  const reply = await registerSms(juliet, { accountSid: account.sid, authToken: "0".repeat(32), ownNumber: OWN });
  assert.equal(reply.attrs.type, "error");
  assert.equal(errorCondition(reply), "not-authorized");
  assert.match(errorText(reply), /Twilio did not accept this Account SID and Auth Token/);
  assert.equal(account.numbers.get(OWN)!.smsUrl, "");
});

test("a number the account does not own is refused with a sentence", async () => {
  const juliet = await s.h.login("juliet", { resource: "notmine" });
  const reply = await registerSms(juliet, { accountSid: account.sid, authToken: account.authToken, ownNumber: "+14155550198" });
  assert.equal(reply.attrs.type, "error");
  assert.equal(errorCondition(reply), "not-acceptable");
  assert.match(errorText(reply), /is not a number of Twilio account/);
});

test("good credentials are accepted: the number is pointed at the gateway, texts go both ways on the user's own account, and the token is not stored in plain text", async () => {
  const juliet = await s.h.login("juliet");
  await joinSms(juliet, { accountSid: account.sid, authToken: account.authToken, ownNumber: "(415) 555-0199" });
  const number = account.numbers.get(OWN)!;
  assert.equal(number.smsUrl, incomingUrl(s.h));
  assert.equal(number.smsMethod, "POST");

  await juliet.send(chat(phoneJid(ROMEO), "From my own number", "own-1"));
  const [text] = await s.twilio.waitForMessages(1);
  assert.equal(text!.accountSid, account.sid);
  assert.equal(text!.from, OWN);

  const result = await s.twilio.sendInbound({ accountSid: account.sid, from: ROMEO, to: OWN, body: "Reply to your own number" });
  assert.equal(result.status, 200);
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "Reply to your own number");

  // A Twilio account the gateway does not know cannot be verified, so its webhooks are refused.
  const unknown = await s.twilio.sendInbound({ accountSid: s.operator.sid, from: ROMEO, to: OWN, body: "unknown account", url: incomingUrl(s.h) });
  assert.equal(unknown.status, 403);

  const stored = await storedText(s.h.config.store.uri);
  assert.ok(stored.length > 0);
  assert.equal(stored.includes(account.authToken), false, "the store holds the token in plain text");
});

test("a second user cannot claim a number another user registered, nor receive its texts through their own account", async () => {
  const romeo = await s.h.login("romeo");
  const reply = await registerSms(romeo, { accountSid: account.sid, authToken: account.authToken, ownNumber: OWN });
  assert.equal(reply.attrs.type, "error");
  assert.equal(errorCondition(reply), "conflict");
  assert.match(errorText(reply), /already used by another user/);

  const romeos = s.twilio.addAccount();
  s.twilio.addNumber(romeos, "+14155550197");
  await joinSms(romeo, { accountSid: romeos.sid, authToken: romeos.authToken, ownNumber: "+14155550197" });
  // Genuinely signed by romeo's account, but addressed to juliet's number: nobody gets it.
  const crossed = await s.twilio.sendInbound({ accountSid: romeos.sid, from: ROMEO, to: OWN, body: "crossed accounts", url: incomingUrl(s.h) });
  assert.equal(crossed.status, 200);
  const juliet = await s.h.login("juliet", { resource: "crossed" });
  await s.twilio.sendInbound({ accountSid: account.sid, from: ROMEO, to: OWN, body: "marker after crossing" });
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "marker after crossing");
  await s.twilio.sendInbound({ accountSid: romeos.sid, from: ROMEO, to: "+14155550197", body: "for romeo" });
  await romeo.waitFor((stanza) => stanza.getChildText("body") === "for romeo");
  assert.equal([...juliet.messages(), ...romeo.messages()].filter((stanza) => stanza.getChildText("body") === "crossed accounts").length, 0);
});

test("when Twilio stops accepting the user's token, their text comes back with an error saying so", async () => {
  const juliet = await s.h.login("juliet", { resource: "revoked" });
  const oldToken = account.authToken;
  account.authToken = "f".repeat(32);
  try {
    await juliet.send(chat(phoneJid(ROMEO), "After the token changed", "own-2"));
    const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "own-2");
    assert.match(errorText(error), /credentials/);
  } finally {
    account.authToken = oldToken;
  }
});

test("unregistering detaches the number from the gateway", async () => {
  const juliet = await s.h.login("juliet", { resource: "leaving" });
  const reply = await juliet.iq(xml("iq", { type: "set", to: SMS }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))));
  assert.equal(reply.attrs.type, "result");
  assert.equal(account.numbers.get(OWN)!.smsUrl, "");
});
