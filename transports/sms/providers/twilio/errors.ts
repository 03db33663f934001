// Twilio's numbered errors in words a user understands, and which of them are worth retrying.

const SENTENCES: Record<number, string> = {
  20003: "Twilio refused the account's credentials (the Account SID or Auth Token is wrong, or the account is closed).",
  20404: "Twilio does not know the resource the gateway asked for.",
  20429: "Twilio says too many requests are being made; the gateway tries again shortly.",
  21211: "Twilio says this is not a valid phone number.",
  21212: "The sending number is not a valid phone number for this Twilio account.",
  21408: "The Twilio account is not allowed to text this country (the region is not enabled in its geographic permissions).",
  21602: "A text needs a body or an attachment.",
  21604: "A text needs a recipient number.",
  21606: "The sending number cannot send texts (it is not an SMS-capable number of this Twilio account).",
  21608: "A Twilio trial account can only text numbers verified in its console.",
  21610: "This person has opted out of texts from your number (they replied STOP); nothing reaches them until they reply START.",
  21612: "Twilio cannot carry texts between these two numbers.",
  21614: "This number is not a mobile number and cannot receive texts.",
  21617: "The text is longer than Twilio's 1,600-character limit.",
  21620: "An attachment's address could not be used for MMS.",
  21623: "An attachment is too large or of a type MMS cannot carry.",
  21635: "This number cannot receive MMS; send the text without attachments.",
  // Conversations, through which the gateway sends and receives group texts.
  50350: "Twilio no longer knows this group text's conversation.",
  50407: "Twilio says a number of this group is not a valid phone number for a group text.",
  50417: "Twilio says this group text has too many people.",
  50434: "Twilio did not take the gateway's number into this group text.",
  50435: "Twilio could not make these numbers a group text (group texts need at least two others, all US or Canadian mobile numbers).",
  50436: "Twilio says this group text has too many people (at most ten, the gateway's number included).",
  50437: "This person is already in the group text.",
  50438: "Twilio already has a group text of exactly these people.",
  50452: "Group texts are not enabled for this Twilio account; ask Twilio support to enable group MMS.",
  50513: "Twilio says the sending number is not part of this group text.",
  30001: "Twilio's queue for the sending number overflowed; the text was dropped. Send it again more slowly.",
  30002: "The Twilio account is suspended.",
  30003: "The phone is unreachable (switched off or out of coverage).",
  30004: "The recipient or their carrier blocked the text.",
  30005: "The number is unknown or no longer in service.",
  30006: "The number is a landline or otherwise cannot receive texts.",
  30007: "The carrier filtered the text as spam or unwanted content.",
  30008: "The carrier could not deliver the text and gave no reason.",
  30019: "The text or its attachments exceed what the carrier accepts.",
  30034: "The sending number is not registered for texting in the US (A2P 10DLC); the carrier refused it.",
};

/** A sentence for a Twilio error code, with the code for support requests. */
export function describeTwilioError(code: number | undefined, fallback?: string): string {
  const sentence = code !== undefined ? SENTENCES[code] : undefined;
  if (sentence) return `${sentence} (Twilio error ${code})`;
  const detail = fallback?.trim() ? `: ${fallback.trim().replace(/\.$/, "")}` : "";
  return code !== undefined ? `Twilio reported error ${code}${detail}.` : `Twilio reported a problem${detail}.`;
}

/** The same, for a code the provider layer carries as text. */
export function describeTwilioCode(code: string | undefined, fallback?: string): string {
  const number = code !== undefined && /^\d+$/.test(code) ? Number(code) : undefined;
  return describeTwilioError(number, fallback);
}

/** Worth trying again later: rate limits, Twilio's own failures, and the network in between. */
export function isTemporary(httpStatus: number | undefined, code: number | undefined): boolean {
  if (code === 20429 || httpStatus === 429) return true;
  if (httpStatus === undefined) return true; // no answer at all: a network problem
  return httpStatus >= 500;
}
