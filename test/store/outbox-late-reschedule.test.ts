// A retry's new due time is written, but the store's answer comes back late (a busy database's pool):
// by then the message is due again and the poller has claimed it while it was still being sent. It
// must still go out now, not sit claimed by this instance until the claim runs out minutes later.
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

const dir = mkdtempSync(join(tmpdir(), "switchboard-late-reschedule-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a retry whose reschedule is answered late is still sent at once", async () => {
  const log = createLogger("silent");
  const store = await openStore(`sqlite://${join(dir, "store.sqlite")}`, log);
  const inner = store.ledger.forTransport("sms");
  // The write lands at once; its answer reaches the outbox 300 ms later, after the retry fell due.
  const ledger: TransportLedger = {
    ...inner,
    async outboxReschedule(id, dueAt, entry) {
      await inner.outboxReschedule(id, dueAt, entry);
      if (id === "slow") await new Promise((resolve) => setTimeout(resolve, 300));
    },
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
  for (let waited = 0; waited < 4_000 && outbox.pending() > 0; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  await outbox.stop();
  await store.close();
  assert.equal(outbox.pending(), 0, "both messages went out");
  assert.equal(attempts.get("slow"), 2, "the slow one was sent twice: refused, then accepted");
  assert.ok(sentAt.get("slow")! - started < 2_000, `the slow one went out ${sentAt.get("slow")! - started} ms after it was written`);
});
