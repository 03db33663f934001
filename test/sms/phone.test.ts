import { test } from "node:test";
import assert from "node:assert/strict";
import { GatewayError } from "../../src/errors.js";
import { createPhoneCodec, parsePhone, parseSender } from "../../transports/sms/phone.js";

test("an international number is kept in E.164 whatever the punctuation", () => {
  assert.equal(parsePhone("+1 (415) 555-0123", "US"), "+14155550123");
  assert.equal(parsePhone("+44 7700 900123", "US"), "+447700900123");
});

test("a national-format number is read in the configured region", () => {
  assert.equal(parsePhone("(415) 555-0123", "US"), "+14155550123");
  assert.equal(parsePhone("07700 900123", "GB"), "+447700900123");
  assert.equal(parsePhone("030 1234567", "DE"), "+49301234567");
});

test("a short code stays as its digits", () => {
  assert.equal(parsePhone("12345", "US"), "12345");
  assert.equal(parsePhone(" 898211 ", "US"), "898211");
});

test("the example number from the docs is accepted (Twilio, not the gateway, judges whether it exists)", () => {
  assert.equal(parsePhone("+15551234567", "US"), "+15551234567");
});

for (const bad of ["", "hello", "+1555", "juliet@example.org", "+1 415 555 0123 4567 89", "12"]) {
  test(`"${bad}" is refused as jid-malformed with a sentence`, () => {
    assert.throws(
      () => parsePhone(bad, "US"),
      (error: unknown) => error instanceof GatewayError && error.condition === "jid-malformed" && error.message.length > 20 && /[.]$/.test(error.message),
    );
  });
}

test("the codec names what it expects for jabber:iq:gateway prompts", () => {
  const codec = createPhoneCodec("GB");
  assert.equal(codec.prompt, "Phone number");
  assert.match(codec.description, /GB/);
  assert.equal(codec.parse("07700 900123"), "+447700900123");
});

test("a number read again is read the same, and a national number again by its region", () => {
  for (let i = 0; i < 3; i += 1) assert.equal(parsePhone("(415) 555-0123", "US"), "+14155550123");
  assert.equal(parsePhone("07700 900123", "GB"), "+447700900123");
  assert.throws(() => parsePhone("07700 900123", "US"), /not a possible phone number/);
  assert.equal(parsePhone("(415) 555-0123", "GB"), "+444155550123");
});

test("an incoming text's sender may be a name or a digit string outside the numbering plan; anything else is refused", () => {
  assert.equal(parseSender("+1 (415) 555-0123", "US"), "+14155550123");
  assert.equal(parseSender(" VM-AMAZON ", "US"), "VM-AMAZON");
  assert.equal(parseSender("Google", "US"), "Google");
  assert.equal(parseSender("1234567", "US"), "1234567");
  for (const bad of ["", "A name far too long", "<script>", "evil\u0000name", "juliet@example.org", "12345678901234567", "Ba\u200bnk"]) {
    assert.throws(() => parseSender(bad, "US"), GatewayError, JSON.stringify(bad));
  }
});
