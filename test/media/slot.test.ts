// What a slot from the server may hold (XEP-0363 §5): http(s) URLs of a sane length without
// credentials, and only the Authorization, Cookie and Expires headers, on one line each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSlot } from "../../src/http/upload.js";
import { xml, type Element } from "../../src/xmpp/xml.js";

const NS = "urn:xmpp:http:upload:0";
const slot = (put: string, get: string, ...headers: Element[]): Element =>
  xml("iq", { type: "result" }, xml("slot", { xmlns: NS }, xml("put", { url: put }, ...headers), xml("get", { url: get })));
const header = (name: string, value: string): Element => xml("header", { name }, value);

test("a slot with https URLs and an Authorization header is taken as it is", () => {
  const parsed = parseSlot(slot("https://share.example.org/up/1/a.png", "https://share.example.org/up/1/a.png", header("Authorization", "Bearer abc")));
  assert.deepEqual(parsed, {
    put: "https://share.example.org/up/1/a.png",
    get: "https://share.example.org/up/1/a.png",
    headers: { authorization: "Bearer abc" },
  });
});

test("URLs other than http(s), with credentials, too long or missing are refused", () => {
  for (const [put, get] of [
    ["file:///etc/passwd", "https://share.example.org/a"],
    ["https://share.example.org/a", "javascript:alert(1)"],
    ["ftp://share.example.org/a", "https://share.example.org/a"],
    ["https://user:pass@share.example.org/a", "https://share.example.org/a"],
    ["https://share.example.org/a", `https://share.example.org/${"x".repeat(3_000)}`],
    ["not a url", "https://share.example.org/a"],
    ["", ""],
  ]) {
    assert.throws(() => parseSlot(slot(put!, get!)), /without usable http\(s\) URLs/, `${put} / ${get}`);
  }
  assert.throws(() => parseSlot(xml("iq", { type: "result" })), /without usable/);
});

test("headers other than Authorization, Cookie and Expires are dropped, and line breaks cannot add any", () => {
  const parsed = parseSlot(
    slot(
      "https://share.example.org/a",
      "https://share.example.org/a",
      header("Host", "intranet.local"),
      header("Content-Length", "0"),
      header("Cookie", "session=1\r\nX-Injected: yes"),
      header("Expires", "x".repeat(5_000)),
    ),
  );
  assert.deepEqual(parsed.headers, { cookie: "session=1 X-Injected: yes" });
});
