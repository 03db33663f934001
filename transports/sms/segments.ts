// Splits a long body into texts the provider accepts (Twilio: at most 1,600 characters each), at word boundaries.

export const TWILIO_MAX_BODY = 1_600;

export function splitBody(body: string, limit = TWILIO_MAX_BODY): string[] {
  const parts: string[] = [];
  let rest = body;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf(" ", limit);
    const newline = rest.lastIndexOf("\n", limit);
    cut = Math.max(cut, newline);
    // A single "word" longer than half a text (a URL, a base64 blob) is cut where it must be.
    if (cut < limit / 2) cut = limit;
    const code = rest.charCodeAt(cut - 1);
    if (cut === limit && code >= 0xd800 && code <= 0xdbff) cut -= 1; // never split a surrogate pair
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^[ \n]/, "");
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts.filter((part, index) => part.length > 0 || index === 0);
}
