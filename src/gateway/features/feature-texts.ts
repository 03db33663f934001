// The words a network without corrections, reactions or retractions gets instead: in one place, so
// that what the other side reads can be changed (or translated) here alone.

/** How much of a message a reaction or a deletion note quotes. */
const QUOTE_CHARS = 60;

/** The start of a message, on one line, cut at a word where it can be. */
export function quote(text: string, max = QUOTE_CHARS): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (line.length <= max) return line;
  const cut = line.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

const CORRECTION = "Correction: ";

/** A text without the correction marker, as the user wrote it: what a phone quoting the correction means. */
export const withoutCorrectionMarker = (text: string): string => (text.startsWith(CORRECTION) ? text.slice(CORRECTION.length) : text);

export const featureText = {
  correction: (text: string): string => `${CORRECTION}${text}`,
  reaction: (emojis: string[], original: string | undefined): string =>
    original === undefined ? `Reacted ${emojis.join("")} to a message` : `Reacted ${emojis.join("")} to "${quote(original)}"`,
  retraction: (name: string | undefined, original: string): string => `(${name ? `${name} deleted` : "Deleted"} a message: "${quote(original)}")`,
};

/** What the user is told when their network cannot carry what they sent. */
export const refusal = {
  correction: (network: string): string => `The ${network} cannot change a message already sent; your first message stands and the correction was not sent.`,
  reaction: (network: string): string => `The ${network} cannot carry reactions; your reaction was not sent.`,
  retraction: (network: string): string => `The ${network} cannot take back a message already sent: it stays with the recipient, and nothing more was sent.`,
};
