// The one XML builder the gateway uses: xmpp.js's, typed, and the one place where text from
// outside is made fit for XML 1.0 (https://www.w3.org/TR/xml/#charsets). Every attribute value
// and every text child goes through xmlSafe here, so no caller can forget: one forbidden
// character makes the server close the whole component stream.
import { xml as coreXml } from "@xmpp/component-core";
import type { Element, XmlChild } from "@xmpp/xml-element";

export type { Element, XmlChild };

export const xml: (name: string, attrs?: Record<string, string | undefined> | null, ...children: XmlChild[]) => Element = (name, attrs, ...children) =>
  coreXml(xmlSafe(name), cleanAttrs(attrs), ...cleanChildren(children));

// XML 1.0 `Char`: tab, LF, CR and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlSafe(text: string): string {
  // toWellFormed (Node 20+) turns lone surrogates into U+FFFD; the regex drops the rest.
  const wellFormed = typeof text.toWellFormed === "function" ? text.toWellFormed() : String(text);
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

/**
 * Cleans, in place, an element built elsewhere or changed after it was built (attributes set
 * by assignment, children appended): the link runs it on every stanza just before writing.
 */
export function cleanTree(element: Element): Element {
  for (const [key, value] of Object.entries(element.attrs)) {
    if (value === undefined || value === null) delete element.attrs[key];
    else element.attrs[key] = xmlSafe(String(value));
  }
  element.children = element.children.map((child) => (typeof child === "string" ? xmlSafe(child) : cleanTree(child)));
  return element;
}

function cleanAttrs(attrs: Record<string, string | undefined> | null | undefined): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value !== undefined && value !== null) clean[key] = xmlSafe(String(value));
  }
  return clean;
}

function cleanChildren(children: XmlChild[]): XmlChild[] {
  return children.map((child) => {
    if (typeof child === "string") return xmlSafe(child);
    if (Array.isArray(child)) return cleanChildren(child);
    if (typeof child === "number") return xmlSafe(String(child));
    return child;
  });
}
