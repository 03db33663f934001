import { test } from "node:test";
import assert from "node:assert/strict";
import { featureText, quote } from "../../src/gateway/features/feature-texts.js";
import { parseReactionText, quotes } from "../../src/gateway/features/reaction-text.js";

test("iMessage's tapbacks as SMS become their emoji and the text they quote", () => {
  const cases: Array<[string, string]> = [
    ["Liked “See you at eight”", "👍"],
    ["Loved “See you at eight”", "❤️"],
    ["Disliked “See you at eight”", "👎"],
    ["Laughed at “See you at eight”", "😂"],
    ["Emphasized “See you at eight”", "‼️"],
    ["Questioned “See you at eight”", "❓"],
    ['Liked "See you at eight"', "👍"],
    ["liked “See you at eight”", "👍"],
  ];
  for (const [text, emoji] of cases) assert.deepEqual(parseReactionText(text), { emoji, quoted: "See you at eight" }, text);
});

test("Android's reaction texts become their emoji and the text they quote", () => {
  assert.deepEqual(parseReactionText('👍 to "See you at eight"'), { emoji: "👍", quoted: "See you at eight" });
  assert.deepEqual(parseReactionText("Reacted 😂 to “See you at eight”"), { emoji: "😂", quoted: "See you at eight" });
  assert.deepEqual(parseReactionText('Reacted to "See you at eight" with ❤️'), { emoji: "❤️", quoted: "See you at eight" });
  assert.deepEqual(parseReactionText('Reacted 👍🏽 to "See you"'), { emoji: "👍🏽", quoted: "See you" });
  assert.deepEqual(parseReactionText('Reacted 👨‍👩‍👧 to "family"'), { emoji: "👨‍👩‍👧", quoted: "family" });
  assert.deepEqual(parseReactionText('Reacted 🇫🇷 to "Paris?"'), { emoji: "🇫🇷", quoted: "Paris?" });
});

test("a quote over several lines, with quotes inside, is kept whole", () => {
  assert.deepEqual(parseReactionText('Liked “He said "no"\nand left”'), { emoji: "👍", quoted: 'He said "no"\nand left' });
});

test("ordinary texts are not reactions", () => {
  for (const text of [
    "Liked it a lot",
    "I liked “the film”, did you?",
    "Liked an image",
    "Loved “”",
    'Loved "   "',
    'Reacted to "x"',
    'cat to "the vet"',
    'Reacted abc to "the vet"',
    'Reacted 123 to "the vet"',
    'Reacted # to "x"',
    "Removed a like from “See you at eight”",
    'Go to "the station"',
    "",
    "👍",
    '👍 to "',
  ])
    assert.equal(parseReactionText(text), undefined, JSON.stringify(text));
});

test("hostile texts are read quickly and are not reactions unless they have the form", () => {
  const long = `Liked “${"a".repeat(5_000)}”`;
  assert.equal(parseReactionText(long), undefined);
  const started = Date.now();
  for (const text of [
    `Liked “${"“".repeat(1_900)}`,
    `${"👍 to ".repeat(300)}"x`,
    `Reacted to "${'" with '.repeat(250)}`,
    `Reacted ${"👍".repeat(20)} to "x"`,
  ]) {
    parseReactionText(text);
  }
  assert.ok(Date.now() - started < 500);
  assert.equal(parseReactionText(`Reacted ${"👍".repeat(20)} to "x"`), undefined);
  assert.equal(parseReactionText("Liked “\u0000\u0007”")?.emoji, "👍");
});

test("a quote matches the same text, or its start when the phone or the record cut it", () => {
  assert.ok(quotes("See you at eight", "See you at eight", false));
  assert.ok(quotes("See  you\nat eight ", "See you at eight", false));
  assert.ok(quotes("See you at…", "See you at eight", false));
  assert.ok(quotes("See you at...", "See you at eight", false));
  assert.ok(quotes("See you at eight and then dinner", "See you at eight", true));
  assert.ok(!quotes("See you at", "See you at eight", false));
  assert.ok(!quotes("See you at eight and then dinner", "See you at eight", false));
  assert.ok(!quotes("Something else", "See you at eight", false));
  assert.ok(!quotes("…", "See you at eight", false));
  assert.ok(!quotes("x", "", false));
});

test("what the other side reads: the marker, the quote on one line and cut at a word", () => {
  assert.equal(featureText.correction("at 9"), "Correction: at 9");
  assert.equal(featureText.reaction(["👍", "🎉"], "See\nyou   there"), 'Reacted 👍🎉 to "See you there"');
  assert.equal(featureText.reaction(["👍"], undefined), "Reacted 👍 to a message");
  assert.equal(featureText.retraction("Juliet", "Wrong person"), '(Juliet deleted a message: "Wrong person")');
  assert.equal(featureText.retraction(undefined, "Wrong person"), '(Deleted a message: "Wrong person")');
  assert.equal(quote("word ".repeat(40)), `${"word ".repeat(12).trim()}…`);
  assert.equal(quote("x".repeat(100)), `${"x".repeat(60)}…`);
  assert.equal(quote("x".repeat(10_000)).length, 61);
});
