// Phone numbers as contact addresses: E.164 for numbers, bare digits for short codes.
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";
import { LRUCache } from "lru-cache";
import { gatewayError } from "../../src/transport/index.js";
import type { AddressCodec } from "../../src/transport/contract.js";

declare const e164Brand: unique symbol;
/** A canonical phone address: "+14155550123", or a short code such as "12345". */
export type PhoneAddress = string & { readonly [e164Brand]: true };

// Short codes are 3 to 6 digits in the countries Twilio serves; longer digit strings are
// national numbers and go through the region's numbering plan.
const SHORT_CODE = /^\d{3,6}$/;
const ALLOWED = /^[+\d\s().\-/]+$/;
// Senders that are not numbers. An alphanumeric sender ID ("Google", "VM-AMAZON": up to 11 letters,
// digits, spaces and a few signs, at least one letter) is how banks and services text outside North
// America; digit strings outside the numbering plan are national service numbers. Texts from them
// are delivered, but they cannot be answered.
const SENDER_NAME = /^(?=.*[A-Za-z])[A-Za-z0-9 .&_+-]{1,11}$/;
const SENDER_DIGITS = /^\d{1,15}$/;

// Every text names its numbers again, mostly the same few, and the numbering plan costs about a
// tenth of a millisecond per parse: numbers that parsed are kept (what did not is parsed again).
const parsedNumbers = new LRUCache<string, PhoneAddress>({ max: 10_000 });

const MAX_CACHED_CHARS = 64;

export function parsePhone(text: string, region: CountryCode): PhoneAddress {
  if (text.length > MAX_CACHED_CHARS) return parseUncached(text, region);
  const key = `${region} ${text}`;
  let found = parsedNumbers.get(key);
  if (found === undefined) {
    found = parseUncached(text, region);
    parsedNumbers.set(key, found);
  }
  return found;
}

function parseUncached(text: string, region: CountryCode): PhoneAddress {
  const trimmed = text.trim();
  if (!trimmed) throw gatewayError("jid-malformed", "A phone number is needed here, such as +14155550123.");
  if (SHORT_CODE.test(trimmed)) return trimmed as PhoneAddress;
  if (SENDER_NAME.test(trimmed) && !ALLOWED.test(trimmed)) {
    throw gatewayError("jid-malformed", `"${trimmed}" is a sender's name, not a phone number: texts from it cannot be answered.`);
  }
  if (!ALLOWED.test(trimmed)) {
    throw gatewayError("jid-malformed", `"${trimmed}" is not a phone number: use digits, optionally starting with + and the country code (e.g. +14155550123).`);
  }
  const parsed = parsePhoneNumberFromString(trimmed, region);
  // "Possible" (right length for its country) rather than "valid": numbering plans change faster
  // than our metadata, and Twilio answers numbers that do not exist with error 21211 in words.
  if (!parsed?.isPossible()) {
    const hint = trimmed.startsWith("+") ? "" : ` Without a leading + it is read as a number of region ${region}.`;
    throw gatewayError("jid-malformed", `"${trimmed}" is not a possible phone number.${hint} Write it with its country code, such as +14155550123.`);
  }
  return parsed.number as PhoneAddress;
}

/** The sender of an incoming text: a phone number or short code as parsePhone makes it, or else a
 *  sender's name or a digit string as the provider gave it. */
export function parseSender(text: string, region: CountryCode): string {
  try {
    return parsePhone(text, region);
  } catch (error) {
    const trimmed = text.trim();
    if (SENDER_NAME.test(trimmed) || SENDER_DIGITS.test(trimmed)) return trimmed;
    throw error;
  }
}

export interface PhoneCodec extends AddressCodec {
  /** The sender of an incoming text (parseSender). */
  sender(text: string): string;
}

export function createPhoneCodec(region: CountryCode): PhoneCodec {
  return {
    sender: (text) => parseSender(text, region),
    prompt: "Phone number",
    vcard: (address) => ({ element: "TEL", children: [["CELL"], ["NUMBER", address]] }),
    description: `Enter the phone number of the person you want to text, with its country code (+14155550123); numbers without one are read as ${region} numbers.`,
    parse: (text) => parsePhone(text, region),
  };
}
