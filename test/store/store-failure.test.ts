import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log.js";
import { openStore } from "../../src/store/store.js";
import { scratchStoreUri, STORE_KIND } from "../support/postgres.js";

// A read the database cannot answer (it restarted, the connection broke) must fail as "try again
// later", never pass for "no such record": the fault suite saw a webhook for a registered number
// read as one for nobody during a PostgreSQL restart, answered 200 and dropped.
test(`a ${STORE_KIND} store that cannot answer a read says so; it does not answer "not found"`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-store-failure-"));
  try {
    const store = await openStore(await scratchStoreUri(dir), createLogger("silent"));
    const numbers = store.table<string>("numbers");
    await numbers.set("+14155550100", "juliet@example.test");
    assert.equal(await numbers.get("+14155550100"), "juliet@example.test");
    await store.close(); // every later query fails, as while the database is down
    const code = (error: Error & { code?: string }) => error.code;
    await assert.rejects(numbers.get("+14155550100"), (error: Error) => code(error) === "store-unavailable");
    await assert.rejects(numbers.has("+14155550100"), (error: Error) => code(error) === "store-unavailable");
    await assert.rejects(numbers.delete("+14155550100"), (error: Error) => code(error) === "store-unavailable");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
