// Whatever a sender puts in one message (thousands of attachments, a huge display name), the chat
// message the gateway builds stays well within what XMPP servers take from a component: the server
// closing the stream on it would drop the link and lose the message.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import type { TestClient } from "../support/xmpp-client.js";

const JULIET = "juliet@example.test";
const OOB = "jabber:x:oob";
/** ejabberd's default max_stanza_size (c2s); Prosody takes 512 KiB from a component. */
const SERVER_LIMIT_BYTES = 256_000;

let h: Harness;
let juliet: TestClient;
before(async () => {
  h = await startHarness();
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await h?.stop();
});

const attachments = (count: number, nameChars: number, urlChars = 40) =>
  Array.from({ length: count }, (_, i) => ({ url: `http://127.0.0.1:1/media/${"x".repeat(urlChars)}${i}`, name: `${"f".repeat(nameChars)}${i}.txt` }));

test("a mail with 1,500 attachments arrives as one message with the first ones and a note on the rest, and the link stays up", async () => {
  const link = h.gateway.services[0]!.link;
  const drops = link.drops;
  const peer = "mallory@evil.example";
  const delivery = await h.transport.inject({
    user: JULIET,
    peer,
    body: "many files",
    nick: "M".repeat(10_000),
    sourceId: "many-attachments",
    attachments: attachments(1_500, 400),
  });
  await delivery.delivered;
  const message = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === contactJid(peer) && Boolean(stanza.getChild("body")));
  const body = message.getChildText("body") ?? "";
  const shown = message.getChildren("x", OOB);
  assert.ok(body.startsWith("many files\n"));
  assert.ok(shown.length > 0 && shown.length <= 20, `${shown.length} attachments shown`);
  assert.equal(shown[0]!.getChildText("url"), "http://127.0.0.1:1/media/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx0");
  for (const x of shown) assert.ok(body.includes(x.getChildText("url")!), "each attachment shown has its link in the body");
  assert.match(body, new RegExp(`${1_500 - shown.length} more attachments were left out`));
  assert.ok(message.toString().length < SERVER_LIMIT_BYTES / 4, `${message.toString().length} characters`);
  assert.ok((message.getChildText("nick", "http://jabber.org/protocol/nick") ?? "").length <= 100, "the display name is cut");
  assert.equal(link.drops, drops, "the server closed the stream");
  assert.equal(link.state, "online");
  // Nothing more came of it: no second part, no notice of a message set aside.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(
    juliet.messages().map((stanza) => stanza.getChildText("body")),
    [],
  );
});

test("long attachment URLs and a body full of escaped characters still make one message under the server's limit", async () => {
  const link = h.gateway.services[0]!.link;
  const drops = link.drops;
  const peer = "eve@evil.example";
  const delivery = await h.transport.inject({
    user: JULIET,
    peer,
    // The body's limit (20,000 characters) is kept; "&" is five bytes once escaped.
    body: "&".repeat(30_000),
    subject: "<".repeat(5_000),
    nick: "&".repeat(5_000),
    sourceId: "long-urls",
    attachments: attachments(300, 200, 3_000),
  });
  await delivery.delivered;
  const message = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === contactJid(peer) && Boolean(stanza.getChild("body")));
  const bytes = Buffer.byteLength(message.toString());
  assert.ok(bytes < SERVER_LIMIT_BYTES * 0.75, `${bytes} bytes`);
  const shown = message.getChildren("x", OOB).length;
  assert.ok(shown >= 1 && shown < 20, `${shown} attachments shown`);
  assert.match(message.getChildText("body") ?? "", new RegExp(`${300 - shown} more attachments were left out`));
  assert.equal(link.drops, drops, "the server closed the stream");
});
