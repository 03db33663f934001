// The embedded store's write-ahead log is copied into the database file by a worker thread, not by
// the commits of the gateway's own connection: the log stays bounded while messages are written,
// what was written is in the database file, and closing the store leaves no log behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log.js";
import { openStore } from "../../src/store/store.js";
import { until } from "../support/wait.js";

const log = createLogger("silent");
const sizeOf = (path: string): number => (existsSync(path) ? statSync(path).size : 0);

test("the SQLite store checkpoints in the background: the log stays bounded and the rows reach the database file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-checkpoints-"));
  const file = join(dir, "store.sqlite");
  try {
    const store = await openStore(`sqlite://${file}`, log);
    const rows = store.table<string>("rows");
    const filler = "x".repeat(4_000);
    let largestLog = 0;
    // 24 MB in 3,000 commits over three seconds or more: several of the worker's rounds.
    for (let round = 0; round < 30; round += 1) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => rows.set(`${round}-${i}`, filler)));
      largestLog = Math.max(largestLog, sizeOf(`${file}-wal`));
      await new Promise((resolve) => setTimeout(resolve, 110));
    }
    assert.ok(await until(() => sizeOf(file) > 10_000_000, 5_000), "the rows were copied into the database file");
    // The gateway's connection does not checkpoint: without the worker the log would hold all 24 MB.
    assert.ok(largestLog < 16_000_000, `the log grew to ${largestLog} bytes for 24 MB written`);
    assert.equal(await rows.get("29-99"), filler);
    await store.close();
    assert.equal(sizeOf(`${file}-wal`), 0, "closing the store leaves no log to replay");

    const reopened = await openStore(`sqlite://${file}`, log);
    assert.equal(await reopened.table<string>("rows").get("0-0"), filler);
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
