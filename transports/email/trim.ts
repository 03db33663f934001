// Cuts quoted history and signatures from a mail's text: in a chat, only the new words matter.

const ATTRIBUTION = [
  /^On .{1,200}wrote:\s*$/i, // Gmail, Apple Mail, Thunderbird
  /^Am .{1,200}schrieb .{0,100}:\s*$/i,
  /^Le .{1,200}a écrit\s*:\s*$/i,
  /^El .{1,200}escribió:\s*$/i,
  /^-{2,}\s*Original Message\s*-{2,}$/i, // Outlook
  /^-{2,}\s*Forwarded message\s*-{2,}$/i,
  /^_{10,}$/, // Outlook's rule above "From: …"
];

export function trimReply(text: string, options: { trimQuotes: boolean; trimSignatures: boolean }): string {
  let lines = text.split("\n");
  if (options.trimSignatures) {
    // RFC 3676 signature separator: "-- " on its own line (some clients drop the space).
    const separator = lines.findIndex((line) => line === "-- " || line === "--");
    if (separator > 0) lines = lines.slice(0, separator);
  }
  if (options.trimQuotes) {
    const attribution = lines.findIndex((line, index) => index > 0 && ATTRIBUTION.some((pattern) => pattern.test(line.trim())));
    if (attribution > 0) lines = lines.slice(0, attribution);
    // Quoted lines at the end (a reply written on top, or after the attribution was cut).
    let end = lines.length;
    while (end > 0 && (lines[end - 1]!.startsWith(">") || lines[end - 1]!.trim() === "")) end -= 1;
    // A mail made only of quotes keeps them: cutting everything would leave nothing to read.
    if (end > 0) lines = lines.slice(0, end);
  }
  return lines.join("\n");
}
