import { test } from "node:test";
import assert from "node:assert/strict";
import { smsConfigSchema } from "../../transports/sms/config.js";
import { describeTelnyxError, isTemporary } from "../../transports/sms/providers/telnyx/errors.js";

const expected: Record<string, RegExp> = {
  "40300": /opted out/,
  "40001": /landline/,
  "40002": /spam filter/,
  "40008": /could not deliver/,
  "40310": /not a valid phone number/,
  "40305": /sending number/,
  "10009": /credentials/,
  "10011": /too many requests/,
};

for (const [code, words] of Object.entries(expected)) {
  test(`Telnyx error ${code} reads as a sentence naming the problem and the code`, () => {
    const sentence = describeTelnyxError(code);
    assert.match(sentence, words);
    assert.match(sentence, new RegExp(`Telnyx error ${code}\\)$`));
  });
}

test("an unknown Telnyx code keeps Telnyx's own words", () => {
  assert.equal(describeTelnyxError("49999", "Something odd."), "Telnyx reported error 49999: Something odd.");
  assert.equal(describeTelnyxError(undefined), "Telnyx reported a problem.");
});

test("Telnyx rate limits, server errors and no answer are worth retrying; refusals are not", () => {
  assert.equal(isTemporary(429, "10011"), true);
  assert.equal(isTemporary(500, "10007"), true);
  assert.equal(isTemporary(undefined, undefined), true);
  assert.equal(isTemporary(400, "40310"), false);
  assert.equal(isTemporary(401, "10009"), false);
});

const publicKey = Buffer.alloc(32, 7).toString("base64");

test("the config chooses Telnyx with provider: telnyx, and a section without provider is Twilio's as before", () => {
  const telnyx = smsConfigSchema.parse({ provider: "telnyx", operator: { apiKey: "KEY0123", publicKey, numbers: ["+14155550100"] } });
  assert.equal(telnyx.provider, "telnyx");
  assert.equal(telnyx.apiBaseUrl, "https://api.telnyx.com/v2");
  const twilio = smsConfigSchema.parse({ operator: { accountSid: `AC${"0".repeat(32)}`, authToken: "t", numbers: ["+14155550100"] } });
  assert.equal(twilio.provider, "twilio");
  assert.equal(twilio.apiBaseUrl, "https://api.twilio.com");
});

test("the config refuses a Telnyx operator with Twilio's keys, a malformed public key, or an unknown provider", () => {
  assert.equal(
    smsConfigSchema.safeParse({ provider: "telnyx", operator: { accountSid: `AC${"0".repeat(32)}`, authToken: "t", numbers: ["+14155550100"] } }).success,
    false,
  );
  assert.equal(
    smsConfigSchema.safeParse({ provider: "telnyx", operator: { apiKey: "KEY0123", publicKey: "short", numbers: ["+14155550100"] } }).success,
    false,
  );
  assert.equal(smsConfigSchema.safeParse({ provider: "nexmo", ownAccounts: true }).success, false);
  assert.equal(smsConfigSchema.safeParse({ provider: "telnyx" }).success, false);
  assert.equal(smsConfigSchema.safeParse({ provider: "telnyx", ownAccounts: true }).success, true);
});
