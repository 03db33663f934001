// Command answers go out as one stanza each, and what they show comes from outside (mail names,
// registrations) with no limit of its own: a stanza over the server's limit (Prosody 512 KiB from a
// component, ejabberd's max_stanza_size 256 KB) closes the component stream for every user of the
// transport. Texts are cut and long listings paged.
import { gatewayError } from "../../../errors.js";

/** How long a name from outside (a mail's From, a nickname) may be where a command shows it. */
export const NAME_CHARS = 100;
/** How long a stored value (a registration's field, an address) may be on a line of an answer. */
export const VALUE_CHARS = 300;

/**
 * A stored text as an answer shows it: on one line, cut to `max` characters with an ellipsis.
 * Answers go out as one stanza, and what is stored has no limit of its own: a stanza over the
 * server's limit (Prosody 512 KiB from a component, ejabberd's max_stanza_size 256 KB) closes the
 * component stream for every user of the transport.
 */
export function shortened(text: string, max = NAME_CHARS): string {
  // Only the start matters: a stored name may be hundreds of kilobytes.
  const start = text.slice(0, max * 4);
  const line = start.replace(/\s+/g, " ").trim();
  if (line.length <= max && start.length === text.length) return line;
  let cut = Math.min(line.length, max - 1);
  const code = line.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return `${line.slice(0, cut).trimEnd()}…`;
}

/** One page of a long listing, and the line that closes it when there is more. */
export interface Page {
  lines: string[];
  /** "51–100 of 120" when the listing has more than one page; empty otherwise. */
  range: string;
  /** How many more there are and how to see them; empty on the last page. */
  closing: string;
}

/**
 * Page `requested` (from 1; empty: the first) of `all`, `perPage` lines a page. `command` is the
 * chat command that shows a page, as the closing line tells it: "contacts" → "send 'contacts 2'".
 */
export function pageOf(all: readonly string[], requested: string | undefined, perPage: number, command: string): Page {
  const pages = Math.max(1, Math.ceil(all.length / perPage));
  const text = (requested ?? "").trim();
  const page = text === "" ? 1 : /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(page >= 1 && page <= pages)) throw gatewayError("bad-request", `The page is a number from 1 to ${pages}.`);
  const first = (page - 1) * perPage;
  const lines = all.slice(first, first + perPage);
  const rest = all.length - first - lines.length;
  const next = Math.min(rest, perPage);
  return {
    lines,
    range: pages > 1 ? `${first + 1}–${first + lines.length} of ${all.length}` : "",
    closing: rest > 0 ? `… and ${rest} more; send '${command} ${page + 1}' to the gateway for the next ${next}.` : "",
  };
}
