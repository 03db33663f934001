// A row the outbox is sending stays claimed by this instance, so the poller does not take it before
// the claim runs out, minutes later. Two ways the store can trouble a retry must not leave a message
// waiting that long: a reschedule whose answer comes back late (a busy database's pool), by when the
// retry fell due and the poller claimed it while it was still being sent; and a reschedule that
// fails (the store briefly down), which leaves the row claimed with its old due time.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics.js";
import { openStore } from "../../src/store/store.js";
import type { TransportLedger } from "../../src/store/ledger/ledger.js";
import { createOutbox } from "../../src/gateway/delivery/outbox.js";
import type { Registrations } from "../../src/gateway/state/registrations.js";
import type { OutboundMessage, SendResult, Transport } from "../../src/transport/contract.js";
import type { BareJid } from "../../src/xmpp/jid.js";

const dir = mkdtempSync(join(tmpdir(), "switchboard-own-claims-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Sends "slow" and "quick" (two conversations), each refused once then accepted, through an outbox
 *  whose ledger's reschedule of "slow" is changed by `reschedule`; returns when "slow" went out. */
async function retryThrough(file: string, reschedule: (inner: TransportLedger["outboxReschedule"]) => TransportLedger["outboxReschedule"]) {
  const log = createLogger("silent");
  const store = await openStore(`sqlite://${join(dir, file)}`, log);
  const inner = store.ledger.forTransport("sms");
  const changed = reschedule(inner.outboxReschedule);
  const ledger: TransportLedger = {
    ...inner,
    outboxReschedule: (id, dueAt, entry) => (id === "slow" ? changed(id, dueAt, entry) : inner.outboxReschedule(id, dueAt, entry)),
  };
  const attempts = new Map<string, number>();
  const sentAt = new Map<string, number>();
  const transport = {
    name: "sms",
    async send(message: OutboundMessage): Promise<SendResult> {
      const n = (attempts.get(message.id) ?? 0) + 1;
      attempts.set(message.id, n);
      if (n === 1) return { kind: "temporary", reason: "busy" };
      sentAt.set(message.id, Date.now());
      return { kind: "accepted", providerId: `SM-${message.id}` };
    },
  } as unknown as Transport;
  const registrations = { get: async (user: string) => ({ user, fields: {} }) } as unknown as Registrations;
  const outbox = createOutbox({
    ledger,
    transport,
    registrations,
    log,
    retryForMs: 60_000,
    retryBaseMs: 20,
    metrics: createMetrics(),
    events: { accepted: async () => undefined, failed: async () => undefined },
  });
  await outbox.resume();
  const entry = (id: string, peer: string) => ({
    message: { id, user: "juliet@example.test" as BareJid, peer, body: id, attachments: [], sentAt: new Date().toISOString(), sourceId: id },
    replyTo: "juliet@example.test/phone",
    contactJid: `${peer}@sms.example.test`,
    wantsReceipt: false,
  });
  const started = Date.now();
  // "quick" is another conversation: its retry wakes the poller while "slow" is still being sent.
  await outbox.enqueue(entry("slow", "+14155550100"));
  await outbox.enqueue(entry("quick", "+14155550101"));
  for (let waited = 0; waited < 6_000 && outbox.pending() > 0; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  const left = outbox.pending();
  await outbox.stop();
  await store.close();
  return { left, attempts: attempts.get("slow"), afterMs: (sentAt.get("slow") ?? Number.NaN) - started };
}

test("a retry whose reschedule is answered late is still sent at once", async () => {
  // The write lands at once; its answer reaches the outbox 300 ms later, after the retry fell due.
  const slow = await retryThrough("late.sqlite", (inner) => async (id, dueAt, entry) => {
    await inner(id, dueAt, entry);
    await new Promise((resolve) => setTimeout(resolve, 300));
  });
  assert.equal(slow.left, 0, "both messages went out");
  assert.equal(slow.attempts, 2, "the slow one was sent twice: refused, then accepted");
  assert.ok(slow.afterMs < 2_000, `the slow one went out ${slow.afterMs} ms after it was written`);
});

test("a retry whose reschedule fails (the store briefly down) is tried again within seconds", async () => {
  let failures = 0;
  const slow = await retryThrough("failing.sqlite", (inner) => async (id, dueAt, entry) => {
    if (failures++ === 0) throw new Error("database is locked");
    await inner(id, dueAt, entry);
  });
  assert.equal(slow.left, 0, "both messages went out");
  assert.equal(slow.attempts, 2, "the slow one was sent twice: refused, then accepted");
  assert.ok(slow.afterMs < 4_000, `the slow one went out ${slow.afterMs} ms after it was written`);
});
