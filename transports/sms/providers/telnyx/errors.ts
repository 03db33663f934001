// Telnyx's error codes in words a user understands: the general API errors (10xxx) an API call
// answers with, and the messaging errors (40xxx) of refused sends and failed deliveries.

const SENTENCES: Record<string, string> = {
  "10001": "Telnyx says this phone number is inactive.",
  "10002": "Telnyx says this is not a valid phone number.",
  "10004": "Telnyx says a required value was missing from the request.",
  "10005": "Telnyx does not know the resource the gateway asked for.",
  "10007": "Telnyx had an unexpected error; the gateway tries again later.",
  "10009": "Telnyx refused the account's credentials (the API key is wrong, revoked or of a closed account).",
  "10010": "The Telnyx API key is not allowed to do this.",
  "10011": "Telnyx says too many requests are being made; the gateway tries again shortly.",
  "10015": "Telnyx could not read the request.",
  "10016": "Telnyx needs the number in international format (+ and the country code).",
  "40001": "The number is a landline or otherwise cannot receive texts.",
  "40002": "The carrier's spam filter blocked the text for now. Send it again later, more slowly.",
  "40003": "The carrier blocked the sending number as a spammer.",
  "40004": "The recipient's carrier rejected the text and gave no reason.",
  "40005": "The text expired before it could be delivered.",
  "40006": "The recipient's carrier is not answering; the phone could not be reached.",
  "40008": "The carrier could not deliver the text and gave no reason.",
  "40009": "The carrier rejected the text's content.",
  "40011": "The carrier says too many texts are being sent; send it again more slowly.",
  "40012": "The carrier says the number is not a valid destination.",
  "40013": "The carrier does not accept the sending number (it is not active or not enabled for texting).",
  "40014": "The text waited too long in the sending queue and expired.",
  "40015": "Telnyx's spam filter blocked the text.",
  "40300": "This person has opted out of texts from your number (they replied STOP); nothing reaches them until they reply START.",
  "40305": "The sending number is not a number of this Telnyx account that can send texts.",
  "40310": "Telnyx says the recipient is not a valid phone number.",
};

/** A sentence for a Telnyx error code, with the code for support requests. */
export function describeTelnyxError(code: string | undefined, fallback?: string): string {
  const sentence = code !== undefined ? SENTENCES[code] : undefined;
  if (sentence) return `${sentence} (Telnyx error ${code})`;
  const detail = fallback?.trim() ? `: ${fallback.trim().replace(/\.$/, "")}` : "";
  return code !== undefined ? `Telnyx reported error ${code}${detail}.` : `Telnyx reported a problem${detail}.`;
}

/** Worth trying again later: rate limits, Telnyx's own failures, and the network in between. */
export function isTemporary(httpStatus: number | undefined, code: string | undefined): boolean {
  if (code === "10011" || code === "10007" || httpStatus === 429) return true;
  if (httpStatus === undefined) return true;
  return httpStatus >= 500;
}
