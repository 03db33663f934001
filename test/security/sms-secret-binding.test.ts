// A stored Twilio Auth Token goes only to the account it was entered for: pointing a registration
// at another Account SID with the token left empty is refused, and Twilio never hears of it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { errorCondition, errorText } from "../support/xmpp-client.js";
import { joinSms, registerSms, startSmsHarness, type SmsHarness } from "../sms/sms-harness.js";

let s: SmsHarness;

before(async () => {
  s = await startSmsHarness({ operator: false, ownAccounts: true });
});
after(async () => {
  await s?.stop();
});

test("changing the Account SID with the Auth Token left empty is refused; other changes keep the token", async () => {
  const juliets = s.twilio.addAccount();
  s.twilio.addNumber(juliets, "+14155550199");
  s.twilio.addNumber(juliets, "+14155550198");
  const mallorys = s.twilio.addAccount();
  s.twilio.addNumber(mallorys, "+14155550177");
  const juliet = await s.h.login("juliet");
  await joinSms(juliet, { accountSid: juliets.sid, authToken: juliets.authToken, ownNumber: "+14155550199" });

  const before = s.twilio.requests.length;
  const moved = await registerSms(juliet, { accountSid: mallorys.sid, authToken: "", ownNumber: "+14155550177" });
  assert.equal(moved.attrs.type, "error");
  assert.equal(errorCondition(moved), "not-acceptable");
  assert.match(errorText(moved), /You changed Twilio Account SID: enter Twilio Auth Token again/);
  assert.equal(s.twilio.requests.slice(before).length, 0, "Twilio was asked about the other account with Juliet's token");

  const renumbered = await registerSms(juliet, { accountSid: juliets.sid, authToken: "", ownNumber: "+14155550198" });
  assert.equal(renumbered.attrs.type, "result", renumbered.toString());
  assert.ok(s.twilio.requests.slice(before).every((request) => request.path.includes(juliets.sid)));
});
