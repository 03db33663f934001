// Kept attachments are bounded: a quota with the oldest out first, files only the gateway can
// read, and downloads that close their file when the one downloading goes away.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pino } from "pino";
import { GatewayError } from "../../src/errors.js";
import { createMediaStore } from "../../src/http/media.js";
import { createHttpListener, type HttpListener } from "../../src/http/server.js";
import { until } from "../support/wait.js";

const log = pino({ level: "silent" });
const QUOTA = 8 * 1024 * 1024;

let root = "";
let http: HttpListener;
let base = "";
let media: ReturnType<typeof createMediaStore>;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "switchboard-media-"));
  http = createHttpListener({ host: "127.0.0.1", port: 0, log });
  media = createMediaStore({ dir: join(root, "media"), router: http.router, publicUrl: () => base, retentionDays: 30, maxBytes: QUOTA, log });
  base = `http://127.0.0.1:${await http.start()}`;
});
after(async () => {
  await http.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Status and body of a download. */
function download(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
    }).on("error", reject);
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const openFiles = (): number => readdirSync("/proc/self/fd").length;

test("storing past the quota removes the oldest attachments first and keeps the new one", async () => {
  const third = QUOTA / 2 - 1024;
  const first = await media.put({ data: Buffer.alloc(third, 1), mediaType: "application/octet-stream", name: "first.bin" });
  await pause(20);
  const second = await media.put({ data: Buffer.alloc(third, 2), mediaType: "application/octet-stream", name: "second.bin" });
  await pause(20);
  const third_ = await media.put({ data: Buffer.alloc(third, 3), mediaType: "application/octet-stream", name: "third.bin" });
  assert.equal((await download(first.url)).status, 404, "the oldest attachment is still there");
  const kept = await download(second.url);
  assert.equal(kept.status, 200);
  assert.equal(kept.body.length, third);
  const newest = await download(third_.url);
  assert.equal(newest.status, 200);
  assert.ok(newest.body.equals(Buffer.alloc(third, 3)));
  const dir = join(root, "media");
  const used = readdirSync(dir)
    .filter((file) => !file.endsWith(".json"))
    .reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
  assert.ok(used <= QUOTA, `${used} bytes kept, more than the quota`);
});

test("an attachment larger than the whole quota is refused with a sentence", async () => {
  await assert.rejects(
    media.put({ data: Buffer.alloc(QUOTA + 1), mediaType: "video/mp4", name: "film.mp4" }),
    (error: unknown) =>
      error instanceof GatewayError &&
      error.message === `The attachment film.mp4 is ${QUOTA + 1} bytes, more than the ${QUOTA} bytes this gateway keeps for all attachments together.`,
  );
});

test("attachments are readable by the gateway's user alone", () => {
  const dir = join(root, "media");
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  for (const file of readdirSync(dir)) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
});

test("50 downloads aborted midway leave no file open", async () => {
  const big = await media.put({ data: Buffer.alloc(QUOTA / 2, 7), mediaType: "application/octet-stream", name: "big.bin" });
  // One complete download first, so that whatever the listener keeps open anyway is counted before.
  assert.equal((await download(big.url)).status, 200);
  await pause(50);
  const before = openFiles();
  for (let round = 0; round < 50; round += 1) {
    await new Promise<void>((resolve, reject) => {
      const request = get(big.url, { agent: false }, (response) => {
        response.once("data", () => {
          request.destroy();
          resolve();
        });
      });
      request.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" ? resolve() : reject(error)));
    });
  }
  const settled = await until(() => openFiles() <= before + 3, 5_000);
  assert.ok(settled, `${openFiles() - before} more files open after 50 aborted downloads`);
});
