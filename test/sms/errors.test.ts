import { test } from "node:test";
import assert from "node:assert/strict";
import { describeTwilioError, isTemporary } from "../../transports/sms/providers/twilio/errors.js";
import { explainKeyword, keywordOf } from "../../transports/sms/keywords.js";

const expected: Record<number, RegExp> = {
  21610: /opted out/,
  21211: /not a valid phone number/,
  30003: /unreachable/,
  30007: /filtered/,
  30005: /unknown or no longer in service/,
  30006: /landline/,
  21408: /not allowed to text this country/,
  21614: /not a mobile number/,
  20003: /credentials/,
  20429: /too many requests/,
};

for (const [code, words] of Object.entries(expected)) {
  test(`Twilio error ${code} reads as a sentence naming the problem and the code`, () => {
    const sentence = describeTwilioError(Number(code));
    assert.match(sentence, words);
    assert.match(sentence, new RegExp(`Twilio error ${code}\\)$`));
  });
}

test("an unknown code keeps Twilio's own message", () => {
  assert.equal(describeTwilioError(99999, "Something odd."), "Twilio reported error 99999: Something odd.");
  assert.equal(describeTwilioError(undefined), "Twilio reported a problem.");
});

test("rate limits, server errors and no answer are worth retrying; refusals are not", () => {
  assert.equal(isTemporary(429, 20429), true);
  assert.equal(isTemporary(500, undefined), true);
  assert.equal(isTemporary(503, 20500), true);
  assert.equal(isTemporary(undefined, undefined), true);
  assert.equal(isTemporary(400, 21211), false);
  assert.equal(isTemporary(401, 20003), false);
});

test("STOP, START and HELP are recognized from Twilio's OptOutType or the words themselves", () => {
  assert.equal(keywordOf("stop"), "stop");
  assert.equal(keywordOf(" Unsubscribe. "), "stop");
  assert.equal(keywordOf("START"), "start");
  assert.equal(keywordOf("help"), "help");
  assert.equal(keywordOf("please stop texting me"), undefined);
  assert.equal(keywordOf("arrêt", "STOP"), "stop");
  assert.match(explainKeyword("STOP", "stop"), /^STOP\n\[This contact replied STOP: they opted out/);
  assert.equal(explainKeyword("hello", undefined), "hello");
});
