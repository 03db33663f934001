import assert from "node:assert/strict";
import { test } from "node:test";
import { parseMail } from "../../transports/email/mime.js";

const TRIM = { trimQuotes: true, trimSignatures: true };
const mail = (subject: string, text: string): Buffer =>
  Buffer.from(`From: romeo@montague.test\nSubject: ${subject}\nContent-Type: text/plain; charset=utf-8\n\n${text}\n`.replace(/\r?\n/g, "\r\n"), "utf8");
const bodyOf = async (subject: string, text: string): Promise<string> => (await parseMail(mail(subject, text), TRIM)).body;

const BOOKING = [
  "From: Hotel Verona <desk@hotel.test>",
  "Date: Mon, 23 Nov 2026 09:00",
  "Subject: Your booking",
  "",
  "Booking 4711: two nights from 4 December.",
  "Check-in from 3 pm.",
];

test("a forwarded mail keeps the message it forwards", async () => {
  const text = ["see the booking below", "", "---------- Forwarded message ---------", ...BOOKING].join("\n");
  assert.equal(await bodyOf("Fwd: Your booking", text), text);
});

test("a signature above a forwarded message does not take the message with it", async () => {
  const text = ["see the booking below", "-- ", "Romeo", "", "---------- Forwarded message ---------", ...BOOKING].join("\n");
  assert.equal(await bodyOf("Fwd: Your booking", text), ["see the booking below", "", "---------- Forwarded message ---------", ...BOOKING].join("\n"));
});

test("a forward from Outlook keeps the message below its rule", async () => {
  const text = ["see the booking below", "", "________________________________", ...BOOKING].join("\n");
  assert.equal(await bodyOf("FW: Your booking", text), text);
});

test("answers written between quoted lines are kept", async () => {
  const text = [
    "On Mon, 23 Nov 2026 at 21:00, Juliet <juliet@capulet.test> wrote:",
    "> Can you come Friday?",
    "Yes, at 8.",
    "> And bring the wine?",
    "Of course.",
  ].join("\n");
  assert.equal(await bodyOf("Re: Friday", text), text);
  const below = ["Answers below.", "", text].join("\n");
  assert.equal(await bodyOf("Re: Friday", below), below);
});

test("a reply written on top still loses the quote below it", async () => {
  const text = [
    "Yes, tonight.",
    "",
    "On Mon, 23 Nov 2026 at 21:00, Juliet <juliet@capulet.test> wrote:",
    "> Will you come?",
    ">",
    "> J",
    "",
    "-- ",
    "Romeo",
  ].join("\n");
  assert.equal(await bodyOf("Re: Tonight", text), "Yes, tonight.");
  const outlook = ["Yes, tonight.", "", "________________________________", "From: Juliet <juliet@capulet.test>", "Sent: Monday", "", "Will you come?"].join(
    "\n",
  );
  assert.equal(await bodyOf("RE: Tonight", outlook), "Yes, tonight.");
});
