// A delivery status the provider was already answered for must reach the user even when the store
// fails to read the sent text's record at first: it is tried again, not left to the next start.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import type { DeliveryStatus } from "../../src/transport/contract.js";
import { createStatusTracker, type SentPart } from "../../transports/sms/status.js";
import { memoryTable } from "../support/memory-table.js";
import { until } from "../support/wait.js";

type Pending = NonNullable<Awaited<ReturnType<Parameters<typeof createStatusTracker>[0]["pending"]["get"]>>>;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
before(() => process.on("unhandledRejection", onUnhandled));
after(() => process.off("unhandledRejection", onUnhandled));

/** The tracker over memory tables whose sent-text reads fail while `failing` says so. */
function tracker(failing: () => boolean) {
  const parts = memoryTable<SentPart>();
  const read = parts.get;
  const reads = { failed: 0 };
  parts.get = async (key) => {
    if (failing()) {
      reads.failed += 1;
      throw new Error("the store is briefly unavailable");
    }
    return read(key);
  };
  const pending = memoryTable<Pending>();
  const reports: Array<[string, DeliveryStatus]> = [];
  const status = createStatusTracker({
    parts,
    progress: memoryTable(),
    pending,
    report: async (id, delivery) => void reports.push([id, delivery]),
    provider: { displayName: "Twilio", describeError: (code) => `The recipient has opted out (${code}).` },
    graceMs: 20,
    log: pino({ level: "silent" }),
  });
  return { status, parts, pending, reads, reports };
}

const SENT = { primary: "SM1", index: 0, total: 1, complete: true, message: "m1" };

test("a failure status whose text's record cannot be read at first still reaches the user, once the store answers", async () => {
  let failures = 1;
  const t = tracker(() => failures-- > 0);
  try {
    await t.parts.set("SM1", { ...SENT, sentAt: Date.now() - 10_000 });
    await t.status.receive({ id: "SM1", state: "failed", detail: "undelivered", errorCode: "21610" });
    assert.ok(await until(() => t.reports.length > 0, 5_000), "the failure was reported");
    assert.deepEqual(t.reports, [["SM1", { state: "failed", reason: "The recipient has opted out (21610)." }]]);
    assert.equal(t.reads.failed, 1);
    assert.ok(await until(() => t.pending.map.size === 0, 1_000), "the reported status is no longer pending");
    assert.deepEqual(unhandled, []);
  } finally {
    t.status.stop();
  }
});

test("a delivery receipt whose text's record cannot be read twice in a row still reaches the user", async () => {
  let failures = 2;
  const t = tracker(() => failures-- > 0);
  try {
    await t.parts.set("SM1", { ...SENT, sentAt: Date.now() - 10_000 });
    await t.status.receive({ id: "SM1", state: "delivered", detail: "delivered" });
    assert.ok(await until(() => t.reports.length > 0, 8_000), "the receipt was reported");
    assert.deepEqual(t.reports, [["SM1", { state: "delivered" }]]);
    assert.equal(t.reads.failed, 2);
    assert.deepEqual(unhandled, []);
  } finally {
    t.status.stop();
  }
});

test("a status still waiting for the store is not tried after the transport stops, and the next start reports it", async () => {
  let down = true;
  const t = tracker(() => down);
  await t.parts.set("SM1", { ...SENT, sentAt: Date.now() - 10_000 });
  await t.status.receive({ id: "SM1", state: "delivered", detail: "delivered" });
  assert.ok(await until(() => t.reads.failed > 0, 1_000));
  t.status.stop();
  down = false;
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.deepEqual(t.reports, []);
  assert.equal(t.reads.failed, 1);
  assert.equal(t.pending.map.size, 1, "the status is kept for the next start");

  // The next start, over the same tables.
  const reports: Array<[string, DeliveryStatus]> = [];
  const next = createStatusTracker({
    parts: t.parts,
    progress: memoryTable(),
    pending: t.pending,
    report: async (id, delivery) => void reports.push([id, delivery]),
    provider: { displayName: "Twilio", describeError: (code) => `error ${code}` },
    graceMs: 20,
    log: pino({ level: "silent" }),
  });
  try {
    assert.equal(await next.resume(), 1);
    assert.ok(await until(() => reports.length > 0, 2_000));
    assert.deepEqual(reports, [["SM1", { state: "delivered" }]]);
    assert.deepEqual(unhandled, []);
  } finally {
    next.stop();
  }
});

test("a failure status whose telling fails at first (the XMPP side refused it) is told again, not lost", async () => {
  const parts = memoryTable<SentPart>();
  const pending = memoryTable<Pending>();
  const reports: Array<[string, DeliveryStatus]> = [];
  let refusals = 1;
  const status = createStatusTracker({
    parts,
    progress: memoryTable(),
    pending,
    report: async (id, delivery) => {
      if (refusals-- > 0) throw new Error("the link to the XMPP server is down");
      reports.push([id, delivery]);
    },
    provider: { displayName: "Twilio", describeError: (code) => `The recipient has opted out (${code}).` },
    graceMs: 20,
    log: pino({ level: "silent" }),
  });
  try {
    await parts.set("SM2", { ...SENT, primary: "SM2", sentAt: Date.now() - 10_000 });
    await status.receive({ id: "SM2", state: "failed", detail: "undelivered", errorCode: "21610" });
    assert.ok(await until(() => reports.length > 0, 5_000), "the failure was told once the XMPP side took it");
    assert.deepEqual(reports, [["SM2", { state: "failed", reason: "The recipient has opted out (21610)." }]]);
    assert.ok(await until(() => pending.map.size === 0, 1_000), "no longer pending once told");
    assert.deepEqual(unhandled, []);
  } finally {
    status.stop();
  }
});
