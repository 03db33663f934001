// Reactions that phones send as plain text, read back into an emoji and the text they quote:
// iMessage's tapbacks as SMS (`Liked “…”`, `Laughed at “…”`…) and Android's (`👍 to "…"`,
// `Reacted 👍 to "…"`, `Reacted to "…" with 👍`). Anything else, or anything odd, is not a reaction.

export interface ReactionText {
  emoji: string;
  /** The quoted text, as the phone wrote it (it may be cut, ending in "…"). */
  quoted: string;
}

/** Longer texts are messages, not reactions (the quote itself is one text at most). */
const MAX_CHARS = 2_000;
const MAX_EMOJI_CHARS = 16;

const TAPBACKS: Record<string, string> = {
  liked: "👍",
  loved: "❤️",
  disliked: "👎",
  "laughed at": "😂",
  emphasized: "‼️",
  emphasised: "‼️",
  questioned: "❓",
};

// Opening and closing quotes as phones write them: “…”, "…", „…“, «…», ‘…’.
const OPEN = `["“„«‘']`;
const CLOSE = `["”“»’']`;
const TAPBACK = new RegExp(`^(liked|loved|disliked|laughed at|emphasi[sz]ed|questioned) ${OPEN}([\\s\\S]+)${CLOSE}$`, "iu");
const EMOJI_FIRST = new RegExp(`^(?:reacted )?(\\S{1,${MAX_EMOJI_CHARS}}) to ${OPEN}([\\s\\S]+)${CLOSE}$`, "iu");
const EMOJI_LAST = new RegExp(`^reacted to ${OPEN}([\\s\\S]+)${CLOSE} with (\\S{1,${MAX_EMOJI_CHARS}})$`, "iu");

// Pictographs with their skin tones, joiners, variation selectors, keycap marks and flag tags.
const EMOJI_PART = /^(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|\u200d|\ufe0e|\ufe0f|\u20e3|[\u{e0020}-\u{e007f}])+$/u;
const PICTOGRAPH = /[\p{Extended_Pictographic}\p{Regional_Indicator}]/u;

const isEmoji = (text: string): boolean => EMOJI_PART.test(text) && PICTOGRAPH.test(text);

/** The reaction a text stands for, or undefined when it is an ordinary message. */
export function parseReactionText(body: string): ReactionText | undefined {
  if (body.length > MAX_CHARS) return undefined;
  const text = body.trim();
  const tapback = TAPBACK.exec(text);
  if (tapback) return made(TAPBACKS[tapback[1]!.toLowerCase()]!, tapback[2]!);
  const first = EMOJI_FIRST.exec(text);
  if (first && isEmoji(first[1]!)) return made(first[1]!, first[2]!);
  const last = EMOJI_LAST.exec(text);
  if (last && isEmoji(last[2]!)) return made(last[2]!, last[1]!);
  return undefined;
}

function made(emoji: string, quoted: string): ReactionText | undefined {
  return normalized(quoted) ? { emoji, quoted } : undefined;
}

/** Text as compared: spaces collapsed, quotes and ellipses at the ends removed. */
export function normalized(text: string): string {
  return text
    .replace(/\s+/g, " ")
    .trim()
    .replace(/(?:…|\.\.\.)$/u, "")
    .trim();
}

/** Whether a phone's quote stands for this message: the same text, or its start when either side was cut. */
export function quotes(quoted: string, original: string, originalCut: boolean): boolean {
  const a = normalized(quoted);
  const b = original.replace(/\s+/g, " ").trim();
  if (!a || !b) return false;
  if (a === b) return true;
  const quoteCut = /(?:…|\.\.\.)\s*$/u.test(quoted);
  if (quoteCut && b.startsWith(a)) return true;
  return originalCut && a.startsWith(b);
}
