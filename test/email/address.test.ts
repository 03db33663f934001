import assert from "node:assert/strict";
import { test } from "node:test";
import { GatewayError } from "../../src/errors.js";
import { parseAddress } from "../../transports/email/address.js";

test("an address is written one way: lower case, no trailing dot, no mailto:", () => {
  assert.equal(parseAddress("Romeo@Montague.NET"), "romeo@montague.net");
  assert.equal(parseAddress(" mailto:romeo@montague.net. "), "romeo@montague.net");
  assert.equal(parseAddress("romeo.o'brien+chat@mail.montague.net"), "romeo.o'brien+chat@mail.montague.net");
});

test("the older user%domain form in a JID is understood as user@domain", () => {
  assert.equal(parseAddress("romeo%montague.net"), "romeo@montague.net");
  assert.equal(parseAddress("a%b%montague.net"), "a%b@montague.net");
});

test("localhost is the one single-label mail domain taken (mailboxes on the same machine, as in the trial)", () => {
  assert.equal(parseAddress("Bob@LocalHost"), "bob@localhost");
});

test("international addresses are accepted", () => {
  assert.equal(parseAddress("josé@correo.españa.es"), "josé@correo.españa.es");
});

for (const [input, reason] of [
  ["romeo", /has no @/],
  ["@montague.net", /nothing comes before the @/],
  ["romeo@intranet", /not a mail domain/],
  ["romeo@-montague.net", /not a mail domain/],
  ["ro meo@montague.net", /characters an address cannot have/],
  ["romeo..x@montague.net", /dots in the wrong places/],
  [".romeo@montague.net", /dots in the wrong places/],
  [`${"r".repeat(65)}@montague.net`, /longer than 64/],
  ["<romeo@montague.net>", /characters an address cannot have|not a mail domain/],
] as const) {
  test(`"${input.slice(0, 30)}" is refused as jid-malformed with a sentence saying why`, () => {
    assert.throws(
      () => parseAddress(input),
      (error: unknown) => error instanceof GatewayError && error.condition === "jid-malformed" && reason.test(error.message),
    );
  });
}
