// Every kind of character a stranger can put in a name, a subject or a server reply reaches the
// user's client cleaned for XML 1.0, through every path that puts outside text into a stanza,
// and the component link never drops. Property-based (fast-check) over code-point classes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parse } from "ltx";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { xml as clientXml, errorText, type Element, type TestClient } from "../support/xmpp-client.js";
import { cleanTree, xml, xmlSafe } from "../../src/xmpp/xml.js";
import type { BareJid } from "../../src/xmpp/jid.js";
import { shortened } from "../../src/gateway/handlers/commands/answer-size.js";

// One arbitrary per class of code point that matters to XML 1.0 and to UTF-16 strings.
const codePoint = fc.oneof(
  fc.integer({ min: 0x00, max: 0x08 }), // C0 controls: forbidden
  fc.constantFrom(0x09, 0x0a, 0x0d), // TAB, LF, CR: allowed
  fc.constantFrom(0x0b, 0x0c), // VT, FF: forbidden
  fc.integer({ min: 0x0e, max: 0x1f }), // forbidden
  fc.constantFrom(0x3c, 0x3e, 0x26, 0x22, 0x27), // markup: must be escaped
  fc.integer({ min: 0x20, max: 0x7e }), // printable ASCII
  fc.integer({ min: 0x7f, max: 0x9f }), // DEL and C1: allowed (discouraged)
  fc.integer({ min: 0xd800, max: 0xdbff }), // lone high surrogate
  fc.integer({ min: 0xdc00, max: 0xdfff }), // lone low surrogate
  fc.constantFrom(0xfffe, 0xffff), // non-characters XML forbids
  fc.constantFrom(0xfdd0, 0xfeff, 0x200b, 0x202e), // non-character, BOM, zero-width space, RTL override: allowed
  fc.integer({ min: 0x10000, max: 0x10ffff }), // astral planes: surrogate pairs
);
const hostile = fc
  .array(codePoint, { minLength: 1, maxLength: 40 })
  .map((points) => points.map((point) => (point < 0x10000 ? String.fromCharCode(point) : String.fromCodePoint(point))).join(""));

/** What a client reads back: XML turns CR and CR LF into LF, and white space in attributes into spaces. */
const asText = (text: string): string => xmlSafe(text).replace(/\r\n?/g, "\n");
const asAttr = (text: string): string => asText(text).replace(/[\t\n]/g, " ");

// XML 1.0 `Char`, as the whole serialised stanza must satisfy it.
const ONLY_XML_CHARS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

test("the builder turns any text and attribute into well-formed XML 1.0 that reads back as the cleaned text", () => {
  fc.assert(
    fc.property(hostile, hostile, (text, attr) => {
      const element = xml("message", { to: "a@b", title: attr }, xml("body", {}, text), [text, xml("nick", {}, attr)]);
      const serialised = element.toString();
      assert.match(serialised, ONLY_XML_CHARS);
      const back = parse(serialised) as Element;
      assert.equal(back.attrs.title, xmlSafe(attr));
      assert.equal(back.getChildText("body"), xmlSafe(text));
      assert.equal(back.getChildText("nick"), xmlSafe(attr));
    }),
    { numRuns: 2_000 },
  );
});

test("the link's last pass cleans attributes set and children appended after building", () => {
  fc.assert(
    fc.property(hostile, hostile, (text, attr) => {
      const element = xml("presence", {});
      element.attrs.status = attr;
      element.children.push(text);
      assert.match(cleanTree(element).toString(), ONLY_XML_CHARS);
    }),
    { numRuns: 1_000 },
  );
});

let h: Harness;
let juliet: TestClient;
const USER = "juliet@example.test" as BareJid;
// A fixed seed: the same worst cases every run, so a failure can be reproduced.
const samples = (count: number, seed: number): string[] => ["Eve\u0001", "\u0000\uFFFE\uD800<&>", ...fc.sample(hostile, { numRuns: count, seed })];

before(async () => {
  h = await startHarness({ config: (raw) => (raw.limits = { messagesPerMinute: 10_000 }) });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await h?.stop();
});

const drops = (): number => h.gateway.services[0]!.link.drops;

test("inbound body, subject, nick, thread and attachment names from strangers arrive cleaned; new contacts' names too", async () => {
  const before = drops();
  const strings = samples(12, 1);
  for (const [i, text] of strings.entries()) {
    const peer = `stranger${i}@example.net`;
    const delivery = await h.transport.inject({
      user: USER,
      peer,
      body: `body ${text}`,
      subject: `subject ${text}`,
      nick: `nick ${text}`,
      thread: `thread-${i}`,
      attachments: [{ url: `https://files.example.net/${i}`, mediaType: "image/png", name: `file ${text}.png` }],
      sourceId: `hostile-${i}`,
    });
    await delivery.delivered;
    const message = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === contactJid(peer) && !!stanza.getChild("body"));
    // (The attachment's URL follows the body on a line of its own, as a fallback for clients.)
    assert.equal(message.getChildText("body")?.replace(/\s*https:\/\/files\.example\.net\/\d+$/, ""), `body ${asText(text)}`.trimEnd());
    assert.equal(message.getChildText("subject"), `subject ${asText(text)}`);
    assert.equal(message.getChild("nick", "http://jabber.org/protocol/nick")?.getText(), `nick ${asText(text)}`);
    assert.equal(message.getChild("x", "jabber:x:oob")?.getChildText("desc"), `file ${asText(text)}.png`);
    const offer = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === contactJid(peer));
    assert.equal(offer.getChild("nick", "http://jabber.org/protocol/nick")?.getText(), `nick ${asText(text)}`);

    const card = await juliet.iq(clientXml("iq", { type: "get", to: contactJid(peer) }, clientXml("vCard", { xmlns: "vcard-temp" })));
    assert.equal(card.getChild("vCard")?.getChildText("FN"), shortened(`nick ${asText(text)}`));
  }
  const reply = await askBot("contacts");
  // Each on one line, as short as a listing shows names.
  for (const text of strings) assert.ok(reply.includes(shortened(`nick ${asText(text)}`)), "the chat bot lists the cleaned names");
  assert.equal(drops(), before, "the component link never dropped");
});

test("account state reasons (server replies) reach the user as a cleaned presence status", async () => {
  const before = drops();
  for (const text of samples(8, 2)) {
    h.transport.context().setAccountState(USER, { ok: false, reason: `login refused: ${text}` });
    const status = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === GATEWAY && stanza.attrs.type === "unavailable");
    assert.equal(status.getChildText("status"), `login refused: ${asText(text)}`);
  }
  h.transport.context().setAccountState(USER, { ok: true });
  await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === GATEWAY && !stanza.attrs.type);
  assert.equal(drops(), before);
});

test("a permanent failure whose reason carries hostile text comes back as a cleaned stanza error", async () => {
  const before = drops();
  for (const [i, text] of samples(8, 3).entries()) {
    h.transport.script.push({ kind: "permanent", reason: `550 ${text}` });
    await juliet.send(clientXml("message", { type: "chat", to: contactJid("romeo@montague.net"), id: `fail-${i}` }, clientXml("body", {}, "hello")));
    const error = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === `fail-${i}`, 10_000);
    assert.ok(errorText(error).includes(`550 ${asText(text)}`), `error text ${JSON.stringify(errorText(error))}`);
  }
  assert.equal(drops(), before);
});

test("the transport's own names and forms (disco identity, registration form) are cleaned too", async () => {
  const before = drops();
  const originalName = h.transport.displayName;
  const originalForm = h.transport.registrationForm;
  try {
    for (const text of samples(6, 4)) {
      (h.transport as { displayName: string }).displayName = `Gateway ${text}`;
      h.transport.registrationForm = () => ({
        title: `Title ${text}`,
        instructions: `Do ${text}`,
        fields: [{ var: "address", label: `Label ${text}`, type: "text-single", value: `value ${text}` }],
      });
      const info = await juliet.iq(clientXml("iq", { type: "get", to: GATEWAY }, clientXml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
      assert.equal(info.getChild("query")?.getChild("identity")?.attrs.name, `Gateway ${asAttr(text)}`);
      const form = await juliet.iq(clientXml("iq", { type: "get", to: GATEWAY }, clientXml("query", { xmlns: "jabber:iq:register" })));
      const x = form.getChild("query")?.getChild("x", "jabber:x:data");
      assert.equal(x?.getChildText("title"), `Title ${asText(text)}`);
      const field = x?.getChildren("field").find((candidate) => candidate.attrs.var === "address");
      assert.equal(field?.attrs.label, `Label ${asAttr(text)}`);
      assert.equal(field?.getChildText("value"), `value ${asText(text)}`);
    }
  } finally {
    (h.transport as { displayName: string }).displayName = originalName;
    h.transport.registrationForm = originalForm;
  }
  assert.equal(drops(), before);
});

async function askBot(line: string): Promise<string> {
  const id = `bot-${Math.random().toString(36).slice(2)}`;
  await juliet.send(clientXml("message", { type: "chat", to: GATEWAY, id }, clientXml("body", {}, line)));
  const answer = await juliet.waitFor(
    (stanza) => stanza.name === "message" && stanza.attrs.from === GATEWAY && !!stanza.getChild("body") && stanza.attrs.type === "chat",
  );
  return answer.getChildText("body") ?? "";
}
