// Attachments of incoming messages go to the user's own server (XEP-0363, Prosody's
// mod_http_file_share), and to the gateway's media listener when that server will not take them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startHarness, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import type { Element, TestClient } from "../support/xmpp-client.js";
import type { Attachment } from "../../src/transport/contract.js";

const UPLOAD = "upload.example.test";
const LIMIT = 4096;
const ROMEO = "romeo@montague.net";

let h: Harness;
let juliet: TestClient;
let fileShare: string;
let gatewayMedia: string;

before(async () => {
  h = await startHarness({
    fileShare: { domain: UPLOAD, sizeLimit: LIMIT, allowedTypes: ["image/*", "text/plain"] },
    config: (raw) => ((raw.media as Record<string, unknown>).uploadService = UPLOAD),
  });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
  fileShare = `http://127.0.0.1:${(h.server as unknown as { httpPort: number }).httpPort}/`;
  gatewayMedia = `http://127.0.0.1:${h.gateway.httpPort}/media/`;
});
after(async () => {
  await h?.stop();
});

/** Keeps `data` through the transport's media store, sends it in a message from Romeo, and
 *  returns the URL Juliet's client receives. */
async function receive(data: Buffer, mediaType: string, name: string, sourceId: string): Promise<{ attachment: Attachment; url: string }> {
  const attachment = await h.transport.context().media.put({ data, mediaType, name });
  await (await h.transport.inject({ user: "juliet@example.test", peer: ROMEO, body: `See ${name}`, attachments: [attachment], sourceId })).delivered;
  const message = await juliet.waitFor((stanza: Element) => stanza.name === "message" && stanza.getChildText("body")?.startsWith(`See ${name}`) === true);
  assert.equal(message.attrs.from, contactJid(ROMEO));
  const url = message.getChild("x", "jabber:x:oob")?.getChildText("url");
  assert.ok(url, `no OOB URL in ${message.toString()}`);
  assert.equal(url, attachment.url);
  return { attachment, url };
}

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url}`);
  return Buffer.from(await response.arrayBuffer());
}

const gatewayLog = (): string => readFileSync(join(h.dir, "gateway.log"), "utf8");

test("an incoming attachment arrives as a URL on the user's server's file share and downloads byte for byte", async () => {
  const data = randomBytes(3_000);
  const { attachment, url } = await receive(data, "image/png", "balcony scene.png", "up-1");
  assert.ok(url.startsWith(fileShare), `${url} is not on Prosody's file share ${fileShare}`);
  assert.equal(attachment.size, data.length);
  assert.equal(attachment.name, "balcony scene.png");
  assert.deepEqual(await download(url), data);
});

test("a file over the limit the upload service announces goes through the gateway's listener and still arrives", async () => {
  const data = randomBytes(LIMIT + 1);
  const { url } = await receive(data, "image/jpeg", "too big.jpg", "up-2");
  assert.ok(url.startsWith(gatewayMedia), `${url} is not on the gateway's listener ${gatewayMedia}`);
  assert.deepEqual(await download(url), data);
  assert.match(gatewayLog(), new RegExp(`over the ${LIMIT} bytes the upload service takes`));
});

test("a file the upload service refuses (a type it does not allow) goes through the gateway's listener and still arrives", async () => {
  const data = randomBytes(1_000);
  const { url } = await receive(data, "application/x-msdownload", "setup.exe", "up-3");
  assert.ok(url.startsWith(gatewayMedia), `${url} is not on the gateway's listener ${gatewayMedia}`);
  assert.deepEqual(await download(url), data);
  assert.match(gatewayLog(), /the upload service refused a slot: .*not-acceptable/);
});

test("uploads go on after a refusal, and names with path separators are made safe for the service", async () => {
  const data = Buffer.from("Parting is such sweet sorrow.\n");
  const { attachment, url } = await receive(data, "text/plain; charset=utf-8", "../letters/farewell.txt", "up-4");
  assert.ok(url.startsWith(fileShare), `${url} is not on Prosody's file share ${fileShare}`);
  assert.equal(attachment.name, ".._letters_farewell.txt");
  assert.deepEqual(await download(url), data);
});
