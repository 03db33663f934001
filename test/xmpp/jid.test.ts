import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeLocal, parseJid, unescapeLocal } from "../../src/xmpp/jid.js";
import { xmlSafe, xmlText } from "../../src/xmpp/xml.js";

test("XEP-0106 escapes the characters a local part cannot hold and back", () => {
  assert.equal(escapeLocal("romeo@montague.net"), "romeo\\40montague.net");
  assert.equal(escapeLocal(`d'artagnan <a b>&"/:`), "d\\27artagnan\\20\\3ca\\20b\\3e\\26\\22\\2f\\3a");
  for (const address of ["romeo@montague.net", "c:\\net@example.com", "a\\5cb@x.y", "plain", "space here@x.org", "\\40@x"]) {
    assert.equal(unescapeLocal(escapeLocal(address)), address, address);
  }
  assert.equal(unescapeLocal("ROMEO\\40MONTAGUE.NET"), "ROMEO@MONTAGUE.NET");
  assert.equal(escapeLocal("+15551234567"), "+15551234567");
});

test("JIDs split into local part, domain and resource", () => {
  const jid = parseJid("romeo\\40montague.net@Email.Example.org/phone/1");
  assert.equal(jid.local, "romeo\\40montague.net");
  assert.equal(jid.domain, "email.example.org");
  assert.equal(jid.resource, "phone/1");
  assert.equal(jid.bare, "romeo\\40montague.net@email.example.org");
  assert.equal(parseJid("example.org").local, "");
  assert.equal(parseJid("example.org").bare, "example.org");
});

test("text for stanzas loses the characters XML forbids and keeps the rest", () => {
  assert.equal(xmlSafe("a\u0000b\u0001c\u0008d\u000be\u000cf\u001fg\ufffeh\uffffi"), "abcdefghi");
  assert.equal(xmlSafe("tab\tnewline\ncr\r ok"), "tab\tnewline\ncr\r ok");
  assert.equal(xmlSafe("emoji 😀 and 中文"), "emoji 😀 and 中文");
  assert.equal(xmlSafe("lone \ud800 surrogate"), "lone \ufffd surrogate");
  assert.equal(xmlText("😀😀😀", 3), "😀");
  assert.equal(xmlText("abcdef", 4), "abcd");
});
