// The upload service found in the server's disco#items ("discover"), and a server whose slots point
// where nothing answers: the attachment still arrives, through the gateway's listener.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../src/trial/ports.js";
import { startHarness, type Harness, type HarnessOptions } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import type { Element } from "../support/xmpp-client.js";

const UPLOAD = "upload.example.test";
const ROMEO = "romeo@montague.net";

/** Starts a harness, sends Juliet one attachment from Romeo, and returns its URL and the harness. */
async function sendOne(options: HarnessOptions, data: Buffer, check: (h: Harness, url: string) => Promise<void>): Promise<void> {
  const h = await startHarness(options);
  try {
    const juliet = await h.login("juliet");
    await registerAndSubscribe(juliet);
    const attachment = await h.transport.context().media.put({ data, mediaType: "image/png", name: "rose.png" });
    await (await h.transport.inject({ user: "juliet@example.test", peer: ROMEO, body: "A rose", attachments: [attachment], sourceId: "disc-1" })).delivered;
    const message = await juliet.waitFor((stanza: Element) => stanza.name === "message" && stanza.getChildText("body")?.startsWith("A rose") === true);
    assert.equal(message.attrs.from, contactJid(ROMEO));
    const url = message.getChild("x", "jabber:x:oob")?.getChildText("url");
    assert.ok(url, `no OOB URL in ${message.toString()}`);
    const response = await fetch(url);
    assert.equal(response.status, 200, `GET ${url}`);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), data);
    await check(h, url);
  } finally {
    await h.stop();
  }
}

const useUpload = (service: string) => (raw: Record<string, unknown>) => ((raw.media as Record<string, unknown>).uploadService = service);

test("with uploadService 'discover', the server's file share is found in its disco#items and used", async () => {
  await sendOne({ fileShare: { domain: UPLOAD }, config: useUpload("discover") }, randomBytes(2_000), async (h, url) => {
    const port = (h.server as unknown as { httpPort: number }).httpPort;
    assert.ok(url.startsWith(`http://127.0.0.1:${port}/`), `${url} is not on Prosody's file share`);
  });
});

test("when the slot's PUT URL answers nothing, the attachment goes through the gateway's listener, and the log says why", async () => {
  const nothing = await freePort();
  await sendOne(
    { fileShare: { domain: UPLOAD, externalUrl: `http://127.0.0.1:${nothing}/` }, config: useUpload(UPLOAD) },
    randomBytes(2_000),
    async (h, url) => {
      assert.ok(url.startsWith(`http://127.0.0.1:${h.gateway.httpPort}/media/`), `${url} is not on the gateway's listener`);
      assert.match(readFileSync(join(h.dir, "gateway.log"), "utf8"), /the PUT to the upload service failed/);
    },
  );
});

test("a server that offers no upload service: attachments stay with the gateway, and the log says so", async () => {
  await sendOne({ config: useUpload("discover") }, randomBytes(500), async (h, url) => {
    assert.ok(url.startsWith(`http://127.0.0.1:${h.gateway.httpPort}/media/`), `${url} is not on the gateway's listener`);
    assert.match(readFileSync(join(h.dir, "gateway.log"), "utf8"), /no upload service/);
  });
});
