import { test } from "node:test";
import assert from "node:assert/strict";
import { isNodeprepStable } from "../../src/xmpp/nodeprep-stable.js";
import { stableLocal, textOfLocal } from "../../src/xmpp/jid.js";

test("local parts nodeprep keeps are told from those it folds, normalizes or refuses", () => {
  for (const kept of [
    "romeo\\40montague.net",
    "+15551234567",
    "müller\\40example.de",
    "δήμητρα\\40example.gr",
    "λογοσ\\40x.gr",
    "ılık\\40example.com.tr",
    "张伟\\40example.cn",
    "हिन्दी\\40example.in",
  ]) {
    assert.equal(isNodeprepStable(kept), true, kept);
  }
  const changed = {
    "case-folded ß": "straße\\40example.de",
    "final sigma": "λογος\\40x.gr",
    "ASCII capital": "Romeo\\40montague.net",
    "capital beyond ASCII": "Élodie\\40example.fr",
    ligature: "ﬁle\\40example.com",
    "fullwidth digits": "１２\\40example.com",
    "decomposed accent": "e\u0301\\40example.fr",
    "soft hyphen": "ro\u00admeo\\40example.com",
    "Hebrew beside Latin": "שלום\\40example.com",
    "Arabic beside Latin": "سلام\\40example.com",
    "unescaped @": "romeo@montague.net",
    "control character": "romeo\t\\40montague.net",
  };
  for (const [why, local] of Object.entries(changed)) assert.equal(isNodeprepStable(local), false, why);
});

test("an address whose escaped form nodeprep keeps has its familiar local part", () => {
  assert.equal(stableLocal("romeo@montague.net"), "romeo\\40montague.net");
  assert.equal(stableLocal("+15551234567"), "+15551234567");
  assert.equal(stableLocal("müller@example.de"), "müller\\40example.de");
  // SMS sender names: the server lower-cases them, as it always has; nobody can answer them.
  assert.equal(stableLocal("VM-AMAZON"), "VM-AMAZON");
});

test("any other text gets a u8- local part that nodeprep keeps and that reads back exactly", () => {
  const texts = [
    "straße@example.de",
    "שלום@example.com",
    "ﬁle@example.com",
    "１２@example.com",
    "\ufeffbom@example.com",
    "e\u0301@x.fr",
    "u8-616263",
    "U8-616263",
    "u8-",
    "ro\u00admeo@x.org",
  ];
  for (const text of texts) {
    const local = stableLocal(text);
    assert.match(local, /^u8-(?:[0-9a-f]{2})+$/, text);
    assert.equal(isNodeprepStable(local), true, text);
    assert.equal(textOfLocal(local), text, text);
  }
  // Letter case of the hexadecimal does not matter; the server sends it lower-case anyway.
  assert.equal(textOfLocal(stableLocal("straße@example.de").toUpperCase()), "straße@example.de");
});

test("escaped local parts read back as before, and a u8- part that encodes no text reads as nothing", () => {
  assert.equal(textOfLocal("romeo\\40montague.net"), "romeo@montague.net");
  assert.equal(textOfLocal("benvolio%verona.it"), "benvolio%verona.it");
  assert.equal(textOfLocal("u8-a"), "u8-a", "no whole byte: read as an escaped local part");
  assert.equal(textOfLocal("u8-ff"), undefined, "0xff is no UTF-8");
  assert.equal(textOfLocal("u8-c3"), undefined, "a UTF-8 sequence cut short");
  assert.equal(textOfLocal("u8-61"), "a");
});
