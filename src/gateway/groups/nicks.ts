// Occupant nicks from display names found in mail headers: hostile until made safe. A nick is a
// JID resource, so besides XML it must pass the server's resourceprep (RFC 3920 App. B and RFC 3454
// §6: no controls, no bidi overrides, right-to-left text only on its own), or the server refuses
// every presence and message from it. Strict servers (ejabberd) also refuse code points that
// Unicode 3.2 did not assign, such as most emoji: those are left out.
import { followsBidiRule, UNASSIGNED_IN_3_2 } from "./unicode-3-2.js";
const MAX_NICK_CHARS = 48;
// Controls, format characters (bidi overrides, zero-width), private use, non-characters, tags.
const DROP = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\u{E0000}-\u{E007F}\u2FF0-\u2FFB\uFFF9-\uFFFD]/gu;

/** A display name as a nick: one line, printable, bounded; undefined when nothing usable is left. */
export function cleanNick(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const text = name
    .normalize("NFKC")
    .replace(DROP, "")
    .replace(UNASSIGNED_IN_3_2, "")
    .replace(/[\s/]+/gu, " ")
    .replace(/^["'\s]+|["'\s]+$/gu, "")
    .trim();
  const cut = Array.from(text).slice(0, MAX_NICK_CHARS).join("").trim();
  if (!cut || !followsBidiRule(cut)) return undefined;
  return cut;
}

/** A nick for `address` named `name` that none of `taken` holds (compared without case). */
export function uniqueNick(name: string | undefined, address: string, taken: readonly string[]): string {
  const used = new Set(taken.map((nick) => nick.toLowerCase()));
  const local = address.slice(0, address.lastIndexOf("@") === -1 ? undefined : address.lastIndexOf("@"));
  const candidates = [cleanNick(name), cleanNick(address), cleanNick(local)].filter((nick): nick is string => nick !== undefined);
  for (const nick of candidates) if (!used.has(nick.toLowerCase())) return nick;
  const base = candidates[0] ?? "participant";
  for (let n = 2; ; n += 1) {
    const numbered = `${Array.from(base)
      .slice(0, MAX_NICK_CHARS - 6)
      .join("")} (${n})`;
    // A right-to-left name cannot end in "(2)": such a nick would break the bidi rule.
    const nick = followsBidiRule(numbered) ? numbered : `participant ${n}`;
    if (!used.has(nick.toLowerCase())) return nick;
  }
}
