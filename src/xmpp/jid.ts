// JIDs as the gateway sees them: split, bare, and XEP-0106 escaping of local parts.
import { isNodeprepStable } from "./nodeprep-stable.js";

declare const bareJidBrand: unique symbol;
/** A bare JID (`local@domain`), the identity of a gateway user. */
export type BareJid = string & { readonly [bareJidBrand]: true };

export interface ParsedJid {
  local: string; // as on the wire (escaped)
  domain: string;
  resource: string;
  bare: BareJid;
  full: string;
}

export function parseJid(text: string): ParsedJid {
  const slash = text.indexOf("/");
  const withoutResource = slash === -1 ? text : text.slice(0, slash);
  const resource = slash === -1 ? "" : text.slice(slash + 1);
  const at = withoutResource.lastIndexOf("@");
  const local = at === -1 ? "" : withoutResource.slice(0, at);
  const domain = (at === -1 ? withoutResource : withoutResource.slice(at + 1)).toLowerCase().replace(/\.$/, "");
  const bare = (local ? `${local}@${domain}` : domain) as BareJid;
  return { local, domain, resource, bare, full: resource ? `${bare}/${resource}` : bare };
}

// XEP-0106: these characters cannot appear in a local part and are written as \xx.
const ESCAPES: ReadonlyArray<[string, string]> = [
  [" ", "\\20"],
  ['"', "\\22"],
  ["&", "\\26"],
  ["'", "\\27"],
  ["/", "\\2f"],
  [":", "\\3a"],
  ["<", "\\3c"],
  [">", "\\3e"],
  ["@", "\\40"],
];
const UNESCAPE = new Map(ESCAPES.map(([char, code]) => [code.slice(1), char]));

export function escapeLocal(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (char === "\\") {
      // A backslash only needs escaping when it would read as an escape sequence.
      const next = text.slice(i + 1, i + 3).toLowerCase();
      out += UNESCAPE.has(next) || next === "5c" ? "\\5c" : "\\";
      continue;
    }
    const escaped = ESCAPES.find(([plain]) => plain === char);
    out += escaped ? escaped[1] : char;
  }
  return out;
}

export function unescapeLocal(local: string): string {
  return local.replace(/\\(20|22|26|27|2f|3a|3c|3e|40|5c)/gi, (_match, code: string) =>
    code.toLowerCase() === "5c" ? "\\" : UNESCAPE.get(code.toLowerCase())!,
  );
}

// Text whose escaped local part nodeprep would change comes back as another text's JID (straße as
// strasse), or cannot be routed at all (right-to-left letters beside the Latin of \40). Such text is
// written as "u8-" and the hexadecimal of its UTF-8, which nodeprep keeps. No escaped text reads like
// that: stableLocal encodes any that would.
const ENCODED_LOCAL = /^u8-((?:[0-9a-f]{2})*)$/i;
// ignoreBOM keeps a leading U+FEFF, which the decoder would otherwise drop.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The local part for `text` that the server routes as it is: escapeLocal's where nodeprep keeps it,
 *  else the "u8-" form. ASCII capitals are left to the server, which lower-cases them as it always
 *  has (the address codecs' canonical forms have none, or are names nobody can answer). */
export function stableLocal(text: string): string {
  const escaped = escapeLocal(text);
  const folded = /[A-Z]/.test(escaped) ? escaped.replace(/[A-Z]+/g, (letters) => letters.toLowerCase()) : escaped;
  if (isNodeprepStable(folded) && !ENCODED_LOCAL.test(folded)) return escaped;
  return `u8-${Buffer.from(text, "utf8").toString("hex")}`;
}

/** The text a local part stands for: stableLocal's inverse, and unescapeLocal's reading of any
 *  other local part. Undefined for a "u8-" form that holds no UTF-8 text. */
export function textOfLocal(local: string): string | undefined {
  const encoded = ENCODED_LOCAL.exec(local);
  if (!encoded) return unescapeLocal(local);
  try {
    return strictUtf8.decode(Buffer.from(encoded[1]!, "hex"));
  } catch {
    return undefined;
  }
}
