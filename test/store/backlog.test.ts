// What the queue gauges read at each scrape: how many messages wait in the outbox and the inbox of
// one transport, and since when the oldest has waited. A retry moves a message's due time, not the
// time it was taken in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log.js";
import { openStore } from "../../src/store/store.js";
import { scratchStoreUri, STORE_KIND } from "../support/postgres.js";

const log = createLogger("silent");

test(`the ${STORE_KIND} ledger counts each transport's waiting messages and knows when the oldest came`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-backlog-"));
  const store = await openStore(await scratchStoreUri(dir), log);
  try {
    const sms = store.ledger.forTransport("sms");
    const email = store.ledger.forTransport("email");
    assert.deepEqual(await sms.backlog(), { outbox: { count: 0 }, inbox: { count: 0 } });

    const t0 = 1_700_000_000_000;
    const free = { owner: "", until: 0 };
    await sms.outboxAdd("out-1", "juliet@example.test", "+14155550100", t0, {}, t0, free);
    await sms.outboxAdd("out-2", "juliet@example.test", "+14155550100", t0 + 5_000, {}, t0 + 5_000, free);
    await email.outboxAdd("out-3", "romeo@example.test", "nurse@verona.example", t0 - 60_000, {}, t0 - 60_000, free);
    // Retried an hour later: still the oldest, taken in at t0.
    await sms.outboxReschedule("out-1", t0 + 3_600_000, { attempts: 1 });
    await sms.inboxAdd("in-1", "juliet@example.test", {}, t0 + 1_000);
    await sms.inboxAdd("in-2", "juliet@example.test", {}, t0 + 2_000);

    assert.deepEqual(await sms.backlog(), { outbox: { count: 2, oldestAt: t0 }, inbox: { count: 2, oldestAt: t0 + 1_000 } });
    assert.deepEqual(await email.backlog(), { outbox: { count: 1, oldestAt: t0 - 60_000 }, inbox: { count: 0 } });

    await sms.outboxFinish("out-1", "juliet@example.test", t0 + 86_400_000);
    await sms.inboxDone("in-1", "juliet@example.test", null, t0 + 86_400_000);
    assert.deepEqual(await sms.backlog(), { outbox: { count: 1, oldestAt: t0 + 5_000 }, inbox: { count: 1, oldestAt: t0 + 2_000 } });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
