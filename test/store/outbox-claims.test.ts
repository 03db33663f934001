// Outgoing rows are claimed by the instance that sends them. Two instances polling one PostgreSQL
// outbox at once never take the same row, nor two rows of one conversation; a claim that runs out
// (an instance that stopped renewing) lets another take the row; a domain's new holder frees the
// old holder's claims at once. SQLite, with one process, keeps the same rules.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log.js";
import { openStore, type Store } from "../../src/store/store.js";
import type { TransportLedger } from "../../src/store/ledger/ledger.js";
import { createDatabase } from "../support/postgres.js";

const log = createLogger("silent");
const dir = mkdtempSync(join(tmpdir(), "switchboard-claims-"));
const opened: Store[] = [];
after(async () => {
  await Promise.allSettled(opened.map((store) => store.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function open(uri: string): Promise<TransportLedger> {
  const store = await openStore(uri, log);
  opened.push(store);
  return store.ledger.forTransport("sms");
}

const CONVERSATIONS = 20;
const PER_CONVERSATION = 10;

/** 200 due messages: 20 conversations of 10, written in order. */
async function fill(ledger: TransportLedger, now: number): Promise<void> {
  for (let n = 0; n < PER_CONVERSATION; n += 1) {
    for (let c = 0; c < CONVERSATIONS; c += 1) {
      const added = await ledger.outboxAdd(`m-${c}-${n}`, `user${c}@example.test`, "+14155550100", now - 1_000 + n, { c, n }, now, {
        owner: "writer",
        until: 0,
      });
      assert.equal(added, true);
    }
  }
}

test("two instances claiming one PostgreSQL outbox at once take each row once, and a conversation whole", async () => {
  const uri = await createDatabase();
  const [a, b] = [await open(uri), await open(uri)];
  const now = Date.now();
  await fill(a, now);
  const claimedBy = new Map<string, string>();
  const conversationOwner = new Map<number, string>();
  const take = async (ledger: TransportLedger, owner: string): Promise<number> => {
    const rows = await ledger.outboxClaim<{ c: number; n: number }>(now, 15, { owner, until: now + 60_000 });
    for (const row of rows) {
      assert.equal(claimedBy.get(row.id), undefined, `${row.id} was claimed by ${claimedBy.get(row.id)} and again by ${owner}`);
      claimedBy.set(row.id, owner);
      const holder = conversationOwner.get(row.entry.c) ?? owner;
      assert.equal(holder, owner, `conversation ${row.entry.c} is being sent by ${holder}; ${owner} took ${row.id} too`);
      conversationOwner.set(row.entry.c, owner);
    }
    return rows.length;
  };
  // Both poll in turns, concurrently, until nothing is left to claim.
  for (let round = 0; round < 40; round += 1) {
    const [x, y] = await Promise.all([take(a, "instance-a"), take(b, "instance-b")]);
    if (x + y === 0) break;
  }
  assert.equal(claimedBy.size, CONVERSATIONS * PER_CONVERSATION, "every message was claimed by somebody");
  const owners = new Set(claimedBy.values());
  assert.deepEqual([...owners].sort(), ["instance-a", "instance-b"], "the work spread over both instances");
});

for (const engine of ["sqlite", "postgresql"] as const) {
  test(`${engine}: claims come in due order, run out, and a new holder frees the old one's at once`, async () => {
    const uri = engine === "sqlite" ? `sqlite://${join(dir, "claims.sqlite")}` : await createDatabase();
    const ledger = await open(uri);
    const now = Date.now();
    await fill(ledger, now);

    const first = await ledger.outboxClaim<{ c: number; n: number }>(now, 1_000, { owner: "old", until: now + 60_000 });
    assert.equal(first.length, CONVERSATIONS * PER_CONVERSATION);
    const order = first.filter((row) => row.entry.c === 3).map((row) => row.entry.n);
    assert.deepEqual(
      order,
      [...order].sort((x, y) => x - y),
      "a conversation's messages come in the order written",
    );
    assert.deepEqual(await ledger.outboxClaim(now, 10, { owner: "new", until: now + 60_000 }), [], "claimed rows are nobody else's");

    // The old holder renews some rows, then its claims run out: the rest go to whoever polls.
    await ledger.outboxRenew(["m-0-0"], { owner: "old", until: now + 120_000 });
    const later = now + 61_000;
    const taken = await ledger.outboxClaim(later, 1_000, { owner: "new", until: later + 60_000 });
    assert.equal(taken.length, CONVERSATIONS * PER_CONVERSATION - PER_CONVERSATION, "conversation 0 stays with the owner that renewed its claim");
    assert.equal(
      taken.some((row) => row.id.startsWith("m-0-")),
      false,
    );

    // A new holder of the domain frees what the old one still claims.
    assert.equal((await ledger.outboxReleaseOthers("newest")).length, CONVERSATIONS * PER_CONVERSATION);
    assert.equal((await ledger.outboxClaim(later, 1_000, { owner: "newest", until: later + 60_000 })).length, CONVERSATIONS * PER_CONVERSATION);

    // A rescheduled message gives up its claim and is due again at its new time.
    await ledger.outboxReschedule("m-5-5", later + 5_000, { c: 5, n: 5 });
    assert.equal(await ledger.outboxNextDue(), later + 5_000);
    const retried = await ledger.outboxClaim<{ c: number; n: number }>(later + 5_000, 10, { owner: "other", until: later + 65_000 });
    assert.deepEqual(retried, [], "its conversation is still being sent by the holder, so it waits");
    await ledger.outboxReleaseOthers("other");
    const all = await ledger.outboxClaim(later + 5_000, 1_000, { owner: "other", until: later + 65_000 });
    assert.equal(all.at(-1)?.id, "m-5-5", "the rescheduled message is claimed again, after those due before it");
  });
}
