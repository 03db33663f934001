// The one XML builder the gateway uses: xmpp.js's, typed, plus the text cleaning every stanza needs.
import { xml as coreXml } from "@xmpp/component-core";
import type { Element, XmlChild } from "@xmpp/xml-element";

export type { Element, XmlChild };

export const xml: (name: string, attrs?: Record<string, string | undefined> | null, ...children: XmlChild[]) => Element =
  (name, attrs, ...children) => {
    const clean: Record<string, string> = {};
    for (const [key, value] of Object.entries(attrs ?? {})) {
      if (value !== undefined) clean[key] = xmlSafe(value);
    }
    return coreXml(name, clean, ...children);
  };

// XML 1.0 allows tab, LF, CR and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
// One character outside that set makes the server close the whole component stream, so text
// from e-mail or SMS passes through here before it becomes part of a stanza.
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlSafe(text: string): string {
  // toWellFormed turns lone surrogates into U+FFFD; the regex then drops control characters.
  const wellFormed = typeof text.toWellFormed === "function" ? text.toWellFormed() : text;
  return wellFormed.replace(FORBIDDEN, "");
}

/** Clean text and cut it to at most `max` characters (never in the middle of a surrogate pair). */
export function xmlText(text: string, max: number): string {
  const safe = xmlSafe(text);
  if (safe.length <= max) return safe;
  let cut = max;
  const code = safe.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return safe.slice(0, cut);
}
