import { test } from "node:test";
import assert from "node:assert/strict";
import { splitBody, TWILIO_MAX_BODY } from "../../transports/sms/segments.js";

const words = (count: number): string => Array.from({ length: count }, (_unused, index) => `word${index}`).join(" ");

test("a short body is one text, unchanged", () => {
  assert.deepEqual(splitBody("Hello Romeo"), ["Hello Romeo"]);
  assert.deepEqual(splitBody(""), [""]);
});

test("a 3,000-character body becomes texts of at most 1,600 characters cut between words", () => {
  let body = words(600);
  body = body.slice(0, 3000);
  body = body.slice(0, body.lastIndexOf(" "));
  const parts = splitBody(body);
  assert.equal(parts.length, 2);
  for (const part of parts) assert.ok(part.length <= TWILIO_MAX_BODY && part.length > 0);
  assert.equal(parts.join(" "), body);
  const vocabulary = new Set(body.split(" "));
  for (const part of parts) for (const word of part.split(" ")) assert.ok(vocabulary.has(word), `"${word}" was cut`);
});

test("a body without spaces is cut at the limit and nothing is lost", () => {
  const body = "x".repeat(4000);
  const parts = splitBody(body);
  assert.deepEqual(
    parts.map((part) => part.length),
    [1600, 1600, 800],
  );
  assert.equal(parts.join(""), body);
});

test("an emoji is never cut in half", () => {
  const body = `${"a".repeat(1599)}😀${"b".repeat(10)}`;
  const parts = splitBody(body);
  assert.equal(parts.join(""), body);
  for (const part of parts) assert.equal(part, part.toWellFormed());
});

test("line breaks are boundaries too", () => {
  const body = `${"a".repeat(1000)}\n${"b".repeat(1000)}`;
  assert.deepEqual(splitBody(body), ["a".repeat(1000), "b".repeat(1000)]);
});
