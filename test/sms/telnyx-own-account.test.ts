// Bring your own Telnyx: the user's API key, public key and number, checked with Telnyx, and the
// number's messaging profile pointed at the gateway.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, incomingUrl, joinSms, phoneJid, registerSms, SMS } from "./sms-harness.js";
import { startTelnyxHarness, type TelnyxHarness } from "./telnyx-harness.js";
import { errorCondition, errorText, xml } from "../support/xmpp-client.js";
import type { TelnyxAccount } from "../support/telnyx-standin.js";
import { storedText } from "../support/postgres.js";

let s: TelnyxHarness;
let account: TelnyxAccount;
const OWN = "+14155550199";
const ROMEO = "+14155550123";

before(async () => {
  s = await startTelnyxHarness({ operator: false, ownAccounts: true });
  account = s.telnyx.addAccount();
  s.telnyx.addNumber(account, OWN);
  s.telnyx.addNumber(account, "+14155550198", { profile: null });
});
after(async () => {
  await s?.stop();
});

test("the registration form asks for a Telnyx API key, public key and number", async () => {
  const juliet = await s.h.login("juliet", { resource: "form" });
  const reply = await juliet.iq(xml("iq", { type: "get", to: SMS }, xml("query", { xmlns: "jabber:iq:register" })));
  const fields = reply.getChild("query")?.getChild("x", "jabber:x:data")?.getChildren("field") ?? [];
  const byName = Object.fromEntries(fields.map((field) => [field.attrs.var, field.attrs.type]));
  assert.equal(byName.apiKey, "text-private");
  assert.equal(byName.publicKey, "text-single");
  assert.equal(byName.ownNumber, "text-single");
  assert.equal(byName.accountSid, undefined);
  assert.equal(byName.number, undefined);
});

test("a wrong API key is refused as not-authorized with a sentence, and nothing is changed at Telnyx", async () => {
  const juliet = await s.h.login("juliet", { resource: "bad" });
  const reply = await registerSms(juliet, { apiKey: "KEYWRONG", publicKey: account.publicKey, ownNumber: OWN });
  assert.equal(reply.attrs.type, "error");
  assert.equal(errorCondition(reply), "not-authorized");
  assert.match(errorText(reply), /Telnyx did not accept this API key/);
  assert.equal(account.profile.webhookUrl, null);
});

test("a malformed public key, a number the account does not own, and a number without a messaging profile are refused with sentences", async () => {
  const juliet = await s.h.login("juliet", { resource: "refusals" });
  const badKey = await registerSms(juliet, { apiKey: account.apiKey, publicKey: "not-a-key", ownNumber: OWN });
  assert.equal(errorCondition(badKey), "not-acceptable");
  assert.match(errorText(badKey), /public key is 44 characters/);
  const notOwned = await registerSms(juliet, { apiKey: account.apiKey, publicKey: account.publicKey, ownNumber: "+14155550197" });
  assert.equal(errorCondition(notOwned), "not-acceptable");
  assert.match(errorText(notOwned), /is not a number of the Telnyx account/);
  const noProfile = await registerSms(juliet, { apiKey: account.apiKey, publicKey: account.publicKey, ownNumber: "+14155550198" });
  assert.equal(errorCondition(noProfile), "not-acceptable");
  assert.match(errorText(noProfile), /has no messaging profile/);
});

test("good credentials: the profile is pointed at the gateway, texts go both ways on the user's account, and the key is not stored in plain text", async () => {
  const juliet = await s.h.login("juliet");
  await joinSms(juliet, { apiKey: account.apiKey, publicKey: account.publicKey, ownNumber: "(415) 555-0199" });
  assert.equal(account.profile.webhookUrl, incomingUrl(s.h));

  await juliet.send(chat(phoneJid(ROMEO), "From my own Telnyx number", "own-1"));
  const [text] = await s.telnyx.waitForMessages(1);
  assert.equal(text!.account, account);
  assert.equal(text!.from, OWN);

  assert.equal((await s.telnyx.sendInbound({ account, from: ROMEO, to: OWN, text: "Reply to your own number" })).status, 200);
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "Reply to your own number");

  // Signed by a Telnyx account the number is not registered through: refused.
  const stranger = s.telnyx.addAccount();
  assert.equal((await s.telnyx.sendInbound({ account: stranger, from: ROMEO, to: OWN, text: "stranger", url: incomingUrl(s.h) })).status, 403);

  const stored = await storedText(s.h.config.store.uri);
  assert.ok(stored.length > 0);
  assert.equal(stored.includes(account.apiKey), false, "the store holds the API key in plain text");
});

test("when Telnyx stops accepting the user's API key, their text comes back with an error saying so", async () => {
  const juliet = await s.h.login("juliet", { resource: "revoked" });
  s.telnyx.accounts.delete(account.apiKey);
  try {
    await juliet.send(chat(phoneJid(ROMEO), "After the key was revoked", "own-2"));
    const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "own-2");
    assert.match(errorText(error), /Telnyx refused the account's credentials.*\(Telnyx error 10009\)/);
  } finally {
    s.telnyx.accounts.set(account.apiKey, account);
  }
});

test("unregistering detaches the messaging profile from the gateway", async () => {
  const juliet = await s.h.login("juliet", { resource: "leaving" });
  const reply = await juliet.iq(xml("iq", { type: "set", to: SMS }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))));
  assert.equal(reply.attrs.type, "result");
  assert.equal(account.profile.webhookUrl, null);
});
