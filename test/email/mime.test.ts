import assert from "node:assert/strict";
import { test } from "node:test";
import { parseMail } from "../../transports/email/mime.js";
import { isFlaggedSpam } from "../../transports/email/spam.js";
import { trimReply } from "../../transports/email/trim.js";

const TRIM = { trimQuotes: true, trimSignatures: true };
const mail = (text: string): Buffer => Buffer.from(text.replace(/\r?\n/g, "\r\n"), "latin1");

test("sender, subject, date, thread headers and recipients are read from a mail", async () => {
  const parsed = await parseMail(
    mail(
      'Delivered-To: juliet@capulet.test\nX-Original-To: jules@capulet.test\nFrom: "Montague, Romeo" <Romeo@Montague.test>\nTo: Juliet <juliet@capulet.test>, Nurse <nurse@capulet.test>\nCc: friar@verona.test\nSubject: =?UTF-8?B?4piA?= sun\nDate: Tue, 24 Nov 2026 07:00:00 +0000\nMessage-ID: <r2@montague.test>\nIn-Reply-To: <j1@capulet.test>\nReferences: <r0@montague.test> <j1@capulet.test>\n\nHello\n',
    ),
    TRIM,
  );
  assert.deepEqual(parsed.from, { address: "romeo@montague.test", name: "Montague, Romeo" });
  assert.equal(parsed.subject, "☀ sun");
  assert.equal(parsed.sentAt?.toISOString(), "2026-11-24T07:00:00.000Z");
  assert.equal(parsed.messageId, "<r2@montague.test>");
  assert.deepEqual(parsed.references, ["<r0@montague.test>", "<j1@capulet.test>"]);
  assert.deepEqual(parsed.envelopeRecipients, ["juliet@capulet.test", "jules@capulet.test"]);
  assert.deepEqual(parsed.headerRecipients, ["juliet@capulet.test", "nurse@capulet.test", "friar@verona.test"]);
  assert.equal(parsed.body, "Hello");
});

test("In-Reply-To counts as a reference when References is missing", async () => {
  const parsed = await parseMail(mail("From: a@b.test\nMessage-ID: <x@b.test>\nIn-Reply-To: <y@b.test>\n\nhi\n"), TRIM);
  assert.deepEqual(parsed.references, ["<y@b.test>"]);
});

test("text/plain is preferred to HTML when a mail has both", async () => {
  const parsed = await parseMail(
    mail(
      'From: a@b.test\nContent-Type: multipart/alternative; boundary="A"\n\n--A\nContent-Type: text/plain\n\nplain words\n--A\nContent-Type: text/html\n\n<p>html words</p>\n--A--\n',
    ),
    TRIM,
  );
  assert.equal(parsed.body, "plain words");
});

test("HTML-only mail becomes text without scripts, styles or tracking pixels", async () => {
  const parsed = await parseMail(
    mail(
      'From: a@b.test\nContent-Type: text/html; charset=utf-8\n\n<style>.x{}</style><script>alert(1)</script><h1>Title</h1><p>One <i>two</i></p><img src="http://t.test/p.gif" width=1><ul><li>item</li></ul>\n',
    ),
    TRIM,
  );
  assert.match(parsed.body, /TITLE/i);
  assert.match(parsed.body, /One two/);
  assert.match(parsed.body, /item/);
  assert.doesNotMatch(parsed.body, /alert|\.x\{|p\.gif/);
});

for (const [charset, encoded, expected] of [
  ["ISO-8859-1", Buffer.from("Ça va, garçon?", "latin1"), "Ça va, garçon?"],
  ["windows-1252", Buffer.from([0x93, 0x48, 0x69, 0x94, 0x20, 0x80]), "\u201cHi\u201d €"],
  ["KOI8-R", Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]), "Привет"],
  ["Shift_JIS", Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd]), "こんにちは"],
] as const) {
  test(`a ${charset} body is read as the words it spells`, async () => {
    const head = Buffer.from(`From: a@b.test\r\nContent-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`, "latin1");
    const parsed = await parseMail(Buffer.concat([head, encoded, Buffer.from("\r\n")]), TRIM);
    assert.equal(parsed.body, expected);
  });
}

test("attachments come out with their type and name", async () => {
  const parsed = await parseMail(
    mail(
      'From: a@b.test\nContent-Type: multipart/mixed; boundary="M"\n\n--M\nContent-Type: text/plain\n\nsee file\n--M\nContent-Type: application/pdf; name="plan.pdf"\nContent-Disposition: attachment; filename="plan.pdf"\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--M--\n',
    ),
    TRIM,
  );
  assert.equal(parsed.attachments.length, 1);
  assert.equal(parsed.attachments[0]!.mediaType, "application/pdf");
  assert.equal(parsed.attachments[0]!.name, "plan.pdf");
  assert.equal(parsed.attachments[0]!.data.toString(), "%PDF-");
});

test("a mail without a usable From has no sender", async () => {
  const parsed = await parseMail(mail("From: undisclosed\nSubject: x\n\nbody\n"), TRIM);
  assert.equal(parsed.from, undefined);
});

test("quoted history below an attribution line and a signature are cut", () => {
  const text = "Yes, tonight.\n\nOn Mon, 23 Nov 2026 at 21:00, Juliet <j@c.test> wrote:\n> Will you come?\n> \n\n-- \nRomeo";
  assert.equal(trimReply(text, TRIM).trim(), "Yes, tonight.");
  assert.equal(trimReply("Ja.\n\nAm Montag schrieb Julia <j@c.test>:\n> Kommst du?", TRIM).trim(), "Ja.");
  assert.equal(trimReply("Reply\n\n-----Original Message-----\nFrom: x\nold text", TRIM).trim(), "Reply");
});

test("interleaved answers are kept; only the quote at the end goes", () => {
  const text = "> Will you come?\nYes.\n> When?\nAt nine.\n\n> old\n> older";
  assert.equal(trimReply(text, TRIM).trim(), "> Will you come?\nYes.\n> When?\nAt nine.");
});

test("trimming can be turned off", () => {
  const text = "Yes.\n\nOn Monday, J wrote:\n> Come?\n-- \nR";
  assert.equal(trimReply(text, { trimQuotes: false, trimSignatures: false }), text);
});

test("a mail made only of a quote keeps it rather than becoming empty", () => {
  assert.equal(trimReply("> forwarded words", TRIM), "> forwarded words");
});

for (const [header, spam] of [
  ["X-Spam-Flag: YES", true],
  ["X-Spam-Flag: NO", false],
  ["X-Spam-Status: Yes, score=9.1 required=5.0", true],
  ["X-Spam-Status: No, score=0.1", false],
  ["X-Spam: yes", true],
  ["X-MS-Exchange-Organization-SCL: 6", true],
  ["X-MS-Exchange-Organization-SCL: 1", false],
] as const) {
  test(`"${header}" ${spam ? "marks" : "does not mark"} a mail as spam`, async () => {
    const parsed = await parseMail(mail(`From: a@b.test\n${header}\n\nbody\n`), TRIM);
    assert.equal(isFlaggedSpam(parsed), spam);
  });
}

test("a spam header in the body does not count", async () => {
  const parsed = await parseMail(mail("From: a@b.test\n\nX-Spam-Flag: YES\n"), TRIM);
  assert.equal(isFlaggedSpam(parsed), false);
});

test("hostile mail is read without crashing: deep nesting, NUL bytes, invalid UTF-8, unknown charsets, folded header tricks", async () => {
  let nested = "hidden words";
  for (let depth = 0; depth < 300; depth += 1) nested = `Content-Type: multipart/mixed; boundary="b${depth}"\r\n\r\n--b${depth}\r\n${nested}\r\n--b${depth}--`;
  const cases: Buffer[] = [
    mail(`From: a@b.test\n${nested}\n`),
    Buffer.concat([mail("From: a@b.test\nContent-Type: text/plain; charset=utf-8\n\n"), Buffer.from([0x41, 0x00, 0xff, 0xfe, 0xc3, 0x28, 0x42, 0x0a])]),
    mail("From: a@b.test\nContent-Type: text/plain; charset=x-no-such-charset\n\nplain ascii\n"),
    mail("From: a@b.test\nSubject: hi\n\tBcc: victim@x.test\n\nbody\n"),
    mail("From: a@b.test\nContent-Type: multipart/mixed\n\nno boundary at all\n"),
    mail(""),
  ];
  for (const source of cases) {
    const started = Date.now();
    const parsed = await parseMail(source, TRIM);
    assert.ok(Date.now() - started < 5_000, "parsed in bounded time");
    assert.equal(typeof parsed.body, "string");
  }
  const withNul = await parseMail(cases[1]!, TRIM);
  assert.match(withNul.body, /^A/);
  assert.equal((await parseMail(cases[2]!, TRIM)).body, "plain ascii");
  assert.deepEqual((await parseMail(cases[3]!, TRIM)).headerRecipients, [], "a folded header line is not a recipient");
});
