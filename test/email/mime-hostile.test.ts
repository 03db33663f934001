import assert from "node:assert/strict";
import { test } from "node:test";
import { parseMail } from "../../transports/email/mime.js";

const TRIM = { trimQuotes: true, trimSignatures: true };
const htmlMail = (html: string): Buffer => Buffer.from(`From: a@b.test\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`, "utf8");

/** Parses a mail and says how long the event loop was held. */
async function timed(source: Buffer): Promise<{ body: string; ms: number }> {
  const started = performance.now();
  const parsed = await parseMail(source, TRIM);
  return { body: parsed.body, ms: performance.now() - started };
}

test("an HTML mail of 1.5 MB of nested divs is read in well under a second, and says its words", async () => {
  const { body, ms } = await timed(htmlMail(`${"<div>".repeat(300_000)}deep words`));
  assert.equal(body, "deep words");
  assert.ok(ms < 1_000, `took ${Math.round(ms)} ms`);
});

test("5,000 nested divs with a line at each level come out as those lines", async () => {
  const lines = Array.from({ length: 5_000 }, (_, index) => `line ${index}`);
  const { body, ms } = await timed(htmlMail(lines.map((line) => `<div>${line}`).join("")));
  assert.deepEqual(body.split("\n"), lines);
  assert.ok(ms < 1_000, `took ${Math.round(ms)} ms`);
});

test("closing tags hidden in attributes and comments do not hide deep nesting", async () => {
  for (const level of ["<div title='x>y</div>'>", "<div><!-- </div> -->", "<p><div></p>"]) {
    const { body, ms } = await timed(htmlMail(`${level.repeat(50_000)}deep words`));
    assert.match(body, /deep words$/, level);
    assert.ok(ms < 1_000, `${level} took ${Math.round(ms)} ms`);
  }
});

test("an HTML mail of 9 MB of paragraphs is cut, marked as cut, in well under a second", async () => {
  const { body, ms } = await timed(htmlMail(`<p>first</p>${"<p>more</p>".repeat(800_000)}<p>last</p>`));
  assert.match(body, /^first\n\nmore/);
  assert.match(body, /…$/);
  assert.doesNotMatch(body, /last/);
  assert.ok(ms < 1_000, `took ${Math.round(ms)} ms`);
});

test("quotes nested 500 deep are read with their words in well under a second", async () => {
  const { body, ms } = await timed(htmlMail(`${"<blockquote>".repeat(500)}${"<p>quoted words</p>".repeat(5_000)}`));
  assert.match(body, /quoted words$/);
  assert.ok(ms < 1_000, `took ${Math.round(ms)} ms`);
});

test("a header block of 16,382 repeated headers is read at once", async () => {
  // 64 KB, the most of a header block that is read.
  const source = Buffer.from(`${"a:\r\n".repeat(16_382)}\r\nbody\r\n`, "latin1");
  const started = performance.now();
  const parsed = await parseMail(source, TRIM);
  const ms = performance.now() - started;
  assert.equal(parsed.headers.get("a")?.length, 16_382);
  assert.equal(parsed.body, "body");
  assert.ok(ms < 300, `took ${Math.round(ms)} ms`);
});
