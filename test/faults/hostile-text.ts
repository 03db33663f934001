// Hostile text for the fault suite's corpus: every class of code point that matters to XML 1.0,
// and the ways a mail header or a server reply can carry them. Fixed seeds: the same corpus each run.
import fc from "fast-check";

const codePoint = fc.oneof(
  fc.integer({ min: 0x00, max: 0x08 }),
  fc.constantFrom(0x09, 0x0b, 0x0c, 0x1b, 0x7f),
  fc.integer({ min: 0x0e, max: 0x1f }),
  fc.constantFrom(0x3c, 0x3e, 0x26, 0x22, 0x27),
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.integer({ min: 0x80, max: 0x9f }),
  fc.integer({ min: 0xd800, max: 0xdfff }),
  fc.constantFrom(0xfffe, 0xffff, 0xfdd0, 0xfeff, 0x202e),
  fc.integer({ min: 0x10000, max: 0x10ffff }),
);

/** `count` strings of 1–30 code points of every class, lone surrogates included. */
export function hostileStrings(count: number, seed: number): string[] {
  const arbitrary = fc
    .array(codePoint, { minLength: 1, maxLength: 30 })
    .map((points) => points.map((point) => (point < 0x10000 ? String.fromCharCode(point) : String.fromCodePoint(point))).join(""));
  return ["Eve\u0001", "\u0000", "\uFFFE\uFFFF", "\uD800", "<&>'\"", ...fc.sample(arbitrary, { numRuns: Math.max(0, count - 5), seed })].slice(0, count);
}

/** A display name as a mail header carries it: RFC 2047 B or Q encoded, or raw 8-bit bytes. */
export function encodedName(name: string, index: number): Buffer {
  switch (index % 3) {
    case 0:
      return Buffer.from(`=?utf-8?B?${Buffer.from(name, "utf8").toString("base64")}?=`);
    case 1:
      return Buffer.from(`=?utf-8?Q?${[...Buffer.from(name, "utf8")].map((byte) => `=${byte.toString(16).toUpperCase().padStart(2, "0")}`).join("")}?=`);
    default:
      // Raw bytes in a quoted string, as a careless mailer writes them: control bytes and 8-bit
      // bytes as they are (CR and LF would end the header, and an unquoted < or , would make
      // another address of it: those are what an unparsable From is, a case of its own).
      return Buffer.concat([Buffer.from('"'), Buffer.from(name.replace(/[\r\n]/g, "").replace(/["\\]/g, "\\$&"), "latin1"), Buffer.from('"')]);
  }
}

/** A server reply line: the text's bytes (invalid UTF-8 included) with no CR or LF to break framing. */
export function replyBytes(text: string, index: number): Buffer {
  const bytes = Buffer.from(text.replace(/[\r\n]/g, " "), "utf8");
  return index % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x00, 0x07])]);
}
