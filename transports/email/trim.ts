// Cuts quoted history and signatures from a mail's text: in a chat, only the new words matter.
// Only what the sender did not write goes: a quote at the end, below its attribution line, and a
// signature (RFC 3676 "-- "). Answers written between quoted lines are new words, and a forwarded
// message is what the sender sends: both stay.

/** Lines that introduce the quoted mail of a reply, quoted below with ">". */
const ATTRIBUTION = [
  /^On .{1,200}wrote:\s*$/i, // Gmail, Apple Mail, Thunderbird
  /^Am .{1,200}schrieb .{0,100}:\s*$/i,
  /^Le .{1,200}a écrit\s*:\s*$/i,
  /^El .{1,200}escribió:\s*$/i,
];
/** Outlook's separators: the original follows unquoted, under its own header block ("From: …"). */
const ORIGINAL = [/^-{2,}\s*Original Message\s*-{2,}$/i, /^_{10,}$/];
const HEADER_BLOCK = /^\*?(?:From|Von|De|Da)\s*:/i;
/** Lines that start a forwarded message (Gmail, Thunderbird, mutt; Apple Mail). */
const FORWARD = [/^-{2,}\s*(?:Forwarded message|Weitergeleitete Nachricht|Message transféré|Mensaje reenviado).*-{2,}$/i, /^Begin forwarded message:$/i];
/** "Fwd:", and Outlook's "FW:", "WG:" (German), "TR:" (French), "RV:" (Spanish). */
const FORWARD_SUBJECT = /^\s*(?:fwd?|wg|tr|rv)\s*:/i;
/** Every marker above is short; a longer line is text, and is not run through the patterns. */
const MAX_MARKER_CHARS = 300;

export interface TrimOptions {
  trimQuotes: boolean;
  trimSignatures: boolean;
  /** The mail's subject: a forward ("Fwd: …") keeps what follows Outlook's separator. */
  subject?: string;
}

export function trimReply(text: string, options: TrimOptions): string {
  const lines = text.split("\n");
  const forwarded = options.subject !== undefined && FORWARD_SUBJECT.test(options.subject);
  const forward = lines.findIndex((line, index) => matches(FORWARD, line) || (forwarded && isOriginal(lines, index)));
  // A forward whose start cannot be found is kept whole: cutting might cut what it forwards.
  if (forwarded && forward === -1) return text;
  const note = forward === -1 ? lines : lines.slice(0, forward);
  let kept = keptLines(note, options);
  if (kept === note.length) return text;
  if (forward === -1) return lines.slice(0, kept).join("\n");
  // Only the note above a forwarded message is trimmed; the message itself stays as it came.
  while (kept > 0 && note[kept - 1]!.trim() === "") kept -= 1;
  return [...note.slice(0, kept), ...(kept > 0 ? [""] : []), ...lines.slice(forward)].join("\n");
}

/** How many of the lines, from the top, the sender wrote for this mail. */
function keptLines(lines: string[], options: TrimOptions): number {
  let end = lines.length;
  if (options.trimSignatures) {
    const separator = lines.findIndex((line) => line === "-- " || line === "--");
    if (separator > 0) end = separator;
  }
  if (!options.trimQuotes) return end;
  const original = lines.findIndex((_, index) => index > 0 && index < end && isOriginal(lines, index));
  if (original > 0) end = original;
  // The quote below an attribution goes only when nothing but quoted lines (or a signature) follows.
  const attribution = lines.findIndex((line, index) => index > 0 && index < end && matches(ATTRIBUTION, line));
  if (attribution > 0) {
    const signature = lines.findIndex((line, index) => index > attribution && (line === "-- " || line === "--"));
    const below = lines.slice(attribution + 1, signature === -1 ? end : Math.min(signature, end));
    if (below.every(isQuotedOrBlank)) end = attribution;
  }
  // Quoted lines at the end (a reply written on top of the quote, without an attribution line).
  let last = end;
  while (last > 0 && isQuotedOrBlank(lines[last - 1]!)) last -= 1;
  // A mail made only of quotes keeps them: cutting everything would leave nothing to read.
  return last > 0 ? last : end;
}

function matches(patterns: RegExp[], line: string): boolean {
  const trimmed = line.trim();
  return trimmed.length <= MAX_MARKER_CHARS && patterns.some((pattern) => pattern.test(trimmed));
}

/** An Outlook separator at `index`, with the original's header block below it. */
function isOriginal(lines: string[], index: number): boolean {
  if (!matches(ORIGINAL, lines[index]!)) return false;
  let next = index + 1;
  while (next < lines.length && lines[next]!.trim() === "") next += 1;
  return next < lines.length && HEADER_BLOCK.test(lines[next]!.trim());
}

function isQuotedOrBlank(line: string): boolean {
  return line.startsWith(">") || line.trim() === "";
}
