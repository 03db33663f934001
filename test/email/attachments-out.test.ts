import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { pino } from "pino";
import { fetchAttachments } from "../../transports/email/attachments-out.js";

const log = pino({ level: "silent" });
let server: Server;
let base = "";

before(async () => {
  server = createServer((request, response) => {
    if (request.url === "/redirect") {
      response.writeHead(302, { location: "/file.txt" });
      response.end();
      return;
    }
    response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    response.end(request.url === "/big.txt" ? "x".repeat(2_000) : "hello");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
});

test("an attachment on the gateway's own network is sent as a link, never fetched, unless allowed", async () => {
  const refused = await fetchAttachments([{ url: `${base}/file.txt` }], { maxBytes: 1_000, timeoutMs: 2_000, allowPrivate: false, log });
  assert.deepEqual(refused, { attached: [], linked: [`${base}/file.txt`] });
  const allowed = await fetchAttachments([{ url: `${base}/file.txt` }], { maxBytes: 1_000, timeoutMs: 2_000, allowPrivate: true, log });
  assert.equal(allowed.attached[0]?.content.toString(), "hello");
  assert.equal(allowed.attached[0]?.contentType, "text/plain");
});

test("attachments share one size budget; what does not fit, or redirects, or fails, stays a link", async () => {
  const result = await fetchAttachments(
    [
      { url: `${base}/a.txt` },
      { url: `${base}/big.txt` },
      { url: `${base}/redirect` },
      { url: "http://127.0.0.1:1/nothing" },
      { url: "ftp://example.org/file" },
    ],
    { maxBytes: 1_000, timeoutMs: 2_000, allowPrivate: true, log },
  );
  assert.deepEqual(
    result.attached.map((file) => file.filename),
    ["a.txt"],
  );
  assert.deepEqual(result.linked, [`${base}/big.txt`, `${base}/redirect`, "http://127.0.0.1:1/nothing", "ftp://example.org/file"]);
});
