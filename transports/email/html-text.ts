// An HTML body as chat text. Anyone can write HTML, and the parser beneath html-to-text costs time
// growing with the square of the nesting while html-to-text recurses once per level: the markup is
// first rewritten, in one pass, into a bounded and balanced form (boundedHtml), then converted.
import { convert } from "html-to-text";

/**
 * HTML nested deeper than this is flattened. No mail needs more, and each level costs: htmlparser2
 * shifts its whole stack of open elements on every tag (quadratic time) and html-to-text recurses
 * once per level (a few thousand levels exhaust the call stack).
 */
const MAX_HTML_DEPTH = 200;
/** Quotes and lists nested deeper than this are flattened too: html-to-text indents every line once per level. */
const MAX_INDENT_DEPTH = 16;
const INDENTING = new Set(["blockquote", "ol", "ul"]);
/**
 * Markup read from an HTML body, after its unread attributes are dropped. A chat message carries some
 * thousands of characters, and html-to-text needs up to a second per megabyte of dense markup.
 */
const MAX_HTML_CHARS = 128 * 1024;

export function htmlToText(html: string): string {
  const bounded = boundedHtml(html);
  const text = convert(bounded.markup, {
    wordwrap: false,
    // Backstops only: boundedHtml already keeps the markup within these.
    limits: { maxDepth: MAX_HTML_DEPTH + 1, maxInputLength: MAX_HTML_CHARS * 2 },
    selectors: [
      // Tracking pixels and inline images say nothing in a chat; links keep their address.
      { selector: "img", format: "skip" },
      { selector: "a", options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
      { selector: "style", format: "skip" },
      { selector: "script", format: "skip" },
    ],
  });
  return bounded.complete ? text : `${text}\n…`;
}

/**
 * Attributes html-to-text reads for the elements it shows (images are skipped). The others, inline
 * styles and data: URIs mostly, are most of a newsletter's bytes. A longer value or name is no real one.
 */
const READ_ATTRIBUTES = new Set(["href", "start", "type", "colspan", "rowspan"]);
const MAX_ATTRIBUTE_CHARS = 8 * 1024;
const MAX_TAG_NAME_CHARS = 100;
const VOID_ELEMENTS = new Set("area base basefont br col command embed frame hr img input isindex keygen link meta param source track wbr".split(" "));
/** Elements whose content is text, not markup, up to their closing tag (and whether that text is read: script and style say nothing in a chat). */
const RAW_TEXT = new Map(
  Object.entries({ script: false, style: false, title: true, textarea: true, xmp: true }).map(([name, read]) => [
    name,
    { read, end: new RegExp(`</${name}[\\t\\n\\f\\r >]`, "gi") },
  ]),
);
/** An element too deep to keep still separates its text from the next as a line break when it is a block. */
const BLOCKS = new Set(
  "address article aside blockquote dd div dl dt footer form h1 h2 h3 h4 h5 h6 header li main nav ol p pre section table td th tr ul".split(" "),
);
const closesP = ["p"];
const formTags = "input option optgroup select button datalist textarea".split(" ");
/** Open elements an opening tag closes first, as htmlparser2 does (a paragraph ends where a list starts). */
const CLOSED_BY = new Map<string, Set<string>>(
  Object.entries({
    tr: ["tr", "th", "td"],
    th: ["th"],
    td: ["thead", "th", "td"],
    body: ["head", "link", "script"],
    li: ["li"],
    option: ["option"],
    optgroup: ["optgroup", "option"],
    dd: ["dd", "dt"],
    dt: ["dd", "dt"],
    rt: ["rt", "rp"],
    rp: ["rt", "rp"],
    tbody: ["thead", "tbody"],
    tfoot: ["thead", "tbody"],
    ...Object.fromEntries("select input output button datalist textarea".split(" ").map((name) => [name, formTags])),
    ...Object.fromEntries(
      "p h1 h2 h3 h4 h5 h6 address article aside blockquote details div dl fieldset figcaption figure footer form header hr main nav ol pre section table ul"
        .split(" ")
        .map((name) => [name, closesP]),
    ),
  }).map(([name, closed]) => [name, new Set(closed)]),
);

/**
 * The same HTML, rewritten in one pass so that converting it costs little whoever wrote it: every
 * element closed explicitly, none deeper than MAX_HTML_DEPTH (deeper tags are left out and their
 * text kept), comments, scripts and unread attributes dropped, a stray "<" escaped, and at most
 * MAX_HTML_CHARS long. Tags are read as htmlparser2's tokenizer reads them; because the output is
 * unambiguous and balanced, htmlparser2 never holds more open elements than this function counts.
 */
function boundedHtml(html: string): { markup: string; complete: boolean } {
  const out: string[] = [];
  let size = 0;
  const emit = (part: string): void => {
    out.push(part);
    size += part.length;
  };
  /** False when the text did not fit and was cut. */
  const emitText = (text: string): boolean => {
    const room = MAX_HTML_CHARS - size;
    emit(text.length > room ? text.slice(0, room) : text);
    if (text.length > 0) broken = false;
    return text.length <= room;
  };
  // One line break between two texts is enough, however many blocks too deep to keep end there.
  let broken = true;
  const lineBreak = (): void => {
    if (!broken) emit("<br>");
    broken = true;
  };
  const open: string[] = [];
  const openCount = new Map<string, number>();
  const dropped = new Map<string, number>();
  let indents = 0;
  const pop = (): void => {
    const name = open.pop()!;
    openCount.set(name, openCount.get(name)! - 1);
    if (INDENTING.has(name)) indents -= 1;
    emit(`</${name}>`);
  };
  const openTag = (name: string, attributes: string, selfClosing: boolean): void => {
    const closes = CLOSED_BY.get(name);
    while (closes && open.length > 0 && closes.has(open.at(-1)!)) pop();
    if (VOID_ELEMENTS.has(name)) {
      emit(`<${name}${attributes}>`);
    } else if (open.length >= MAX_HTML_DEPTH || (INDENTING.has(name) && indents >= MAX_INDENT_DEPTH)) {
      if (!selfClosing) dropped.set(name, (dropped.get(name) ?? 0) + 1);
      if (BLOCKS.has(name)) lineBreak();
    } else if (selfClosing) {
      emit(`<${name}${attributes}></${name}>`);
    } else {
      emit(`<${name}${attributes}>`);
      open.push(name);
      openCount.set(name, (openCount.get(name) ?? 0) + 1);
      if (INDENTING.has(name)) indents += 1;
    }
  };
  const closeTag = (name: string): void => {
    const deep = dropped.get(name);
    if (deep) {
      dropped.set(name, deep - 1);
      if (BLOCKS.has(name)) lineBreak();
    } else if (openCount.get(name)) {
      while (open.at(-1) !== name) pop();
      pop();
    } else if (name === "br") emit("<br>");
    else if (name === "p") emit("<p></p>");
  };

  const end = html.length;
  let at = 0;
  while (at < end && size < MAX_HTML_CHARS) {
    const lt = html.indexOf("<", at);
    if (!emitText(html.slice(at, lt === -1 ? end : lt))) return { markup: out.join(""), complete: false };
    if (lt === -1) return { markup: out.join(""), complete: true };
    const next = html.charCodeAt(lt + 1);
    if (isAsciiLetter(next)) {
      const tag = readOpenTag(html, lt);
      // A tag left open at the end of the mail: nothing after it is text.
      at = tag?.end ?? end;
      if (!tag) break;
      if (tag.name.length > MAX_TAG_NAME_CHARS) continue;
      const raw = RAW_TEXT.get(tag.name);
      if (raw === undefined || tag.selfClosing) {
        if (raw?.read !== false) openTag(tag.name, tag.attributes, tag.selfClosing);
        continue;
      }
      // Its text stands without the element: as plain text, it cannot turn into markup.
      raw.end.lastIndex = at;
      const close = raw.end.exec(html)?.index ?? end;
      if (raw.read && !emitText(html.slice(at, close).replaceAll("<", "&lt;"))) return { markup: out.join(""), complete: false };
      at = close;
    } else if (next === SLASH) {
      let name = lt + 2;
      while (name < end && isHtmlSpace(html.charCodeAt(name))) name += 1;
      if (isAsciiLetter(html.charCodeAt(name))) {
        let nameEnd = name;
        while (nameEnd < end && html.charCodeAt(nameEnd) !== GT && !isHtmlSpace(html.charCodeAt(nameEnd))) nameEnd += 1;
        closeTag(html.slice(name, nameEnd).toLowerCase());
      }
      at = skipPast(html, ">", name);
    } else if (next === BANG) {
      if (html.startsWith("--", lt + 2)) at = skipPast(html, "-->", lt + 2);
      else if (html.startsWith("[CDATA[", lt + 2)) at = skipPast(html, "]]>", lt + 9);
      else at = skipPast(html, ">", lt + 2);
    } else if (next === QUESTION) at = skipPast(html, ">", lt + 2);
    else {
      emit("&lt;");
      at = lt + 1;
    }
  }
  return { markup: out.join(""), complete: at >= end };
}

const SLASH = 0x2f;
const GT = 0x3e;
const BANG = 0x21;
const QUESTION = 0x3f;
const EQUALS = 0x3d;

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** HTML's whitespace, which is not JavaScript's \s. */
function isHtmlSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0c || code === 0x0d;
}

function skipPast(html: string, marker: string, from: number): number {
  const found = html.indexOf(marker, from);
  return found === -1 ? html.length : found + marker.length;
}

/** The opening tag at `start`, read as htmlparser2's tokenizer reads it (a ">" inside a quoted value does not end it); undefined when the mail ends inside it. */
function readOpenTag(html: string, start: number): { name: string; attributes: string; selfClosing: boolean; end: number } | undefined {
  const end = html.length;
  let at = start + 1;
  while (at < end && !isTagNameEnd(html.charCodeAt(at))) at += 1;
  const name = html.slice(start + 1, at).toLowerCase();
  let attributes = "";
  for (;;) {
    while (at < end && isHtmlSpace(html.charCodeAt(at))) at += 1;
    if (at >= end) return undefined;
    const code = html.charCodeAt(at);
    if (code === GT) return { name, attributes, selfClosing: false, end: at + 1 };
    if (code === SLASH) {
      at += 1;
      while (at < end && isHtmlSpace(html.charCodeAt(at))) at += 1;
      if (html.charCodeAt(at) === GT) return { name, attributes, selfClosing: true, end: at + 1 };
      continue;
    }
    const nameStart = at;
    at += 1;
    while (at < end && html.charCodeAt(at) !== EQUALS && !isTagNameEnd(html.charCodeAt(at))) at += 1;
    const attribute = html.slice(nameStart, at).toLowerCase();
    while (at < end && isHtmlSpace(html.charCodeAt(at))) at += 1;
    let value: string | undefined;
    if (html.charCodeAt(at) === EQUALS) {
      at += 1;
      while (at < end && isHtmlSpace(html.charCodeAt(at))) at += 1;
      const quote = html[at];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, at + 1);
        if (close === -1) return undefined;
        value = html.slice(at + 1, close);
        at = close + 1;
      } else {
        const valueStart = at;
        while (at < end && html.charCodeAt(at) !== GT && !isHtmlSpace(html.charCodeAt(at))) at += 1;
        value = html.slice(valueStart, at);
      }
    }
    if (READ_ATTRIBUTES.has(attribute) && (value?.length ?? 0) <= MAX_ATTRIBUTE_CHARS)
      attributes += value === undefined ? ` ${attribute}` : ` ${attribute}="${value.replaceAll('"', "&quot;")}"`;
  }
}

function isTagNameEnd(code: number): boolean {
  return code === GT || code === SLASH || isHtmlSpace(code);
}
