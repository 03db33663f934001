// The store refuses writes for a while in the middle of sends, both ways: on SQLite its disk fills
// (the store lives on a small tmpfs of its own and a file takes the rest), on PostgreSQL every write
// fails with the database's disk-full error (53100). Messages the gateway was sending when the store
// failed go once, their outcome recorded once the store is back; new work is refused meanwhile
// (the sender gets an error and sends again, Twilio's webhook gets 503 and is posted again, a mail
// stays unread in its mailbox). Nothing is lost and nothing goes twice.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestClient } from "../support/xmpp-client.js";
import { refuseWrites, STORE_KIND } from "../support/postgres.js";
import { record } from "./ledger.js";
import { runTraffic } from "./traffic.js";
import { startWorld, type World } from "./world.js";

const N = Number(process.env.FAULT_COUNT ?? 1000);
const FULL_MS = 5_000;
const disk = STORE_KIND === "sqlite" ? mkdtempSync(join(tmpdir(), "switchboard-faults-disk-")) : undefined;
const filler = disk && join(disk, "filler");
let w: World;
let juliet: TestClient;

before(async () => {
  if (disk) execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", disk]);
  w = await startWorld({ storeDir: disk });
  juliet = await w.login("juliet");
  await w.join(juliet, "juliet");
});
after(async () => {
  await w?.stop();
  if (disk) {
    execFileSync("umount", [disk]);
    rmSync(disk, { recursive: true, force: true });
  }
});

/** Fills the small disk to the last byte. */
function fillDisk(file: string): void {
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(1024 * 1024);
  try {
    for (let size = chunk.length; size >= 512; ) {
      try {
        writeSync(fd, chunk, 0, size);
      } catch {
        size = Math.floor(size / 2); // ENOSPC: the last pages go in smaller pieces
      }
    }
  } finally {
    closeSync(fd);
  }
}

const storeUri = () => (w.gateway.config.store as { uri: string }).uri;
const fill = async () => (filler ? fillDisk(filler) : refuseWrites(storeUri(), true));
const free = async () => (filler ? rmSync(filler) : refuseWrites(storeUri(), false));
const what = STORE_KIND === "sqlite" ? "SQLite on a tmpfs filled to the last byte" : "PostgreSQL failing every write with 53100 disk_full";

test(`the store full for ${FULL_MS / 1000} s amid ${N} messages each way: each goes once, none is lost`, async () => {
  const result = await runTraffic(w, juliet, {
    tag: "store-full",
    n: N,
    intervalMs: 30,
    async fault() {
      await fill();
      await new Promise((resolve) => setTimeout(resolve, FULL_MS));
      await free();
    },
  });
  const label = `the store full for ${FULL_MS / 1000} s (every write fails)`;
  const refused = `${what}; ${result.bounced} client messages refused meanwhile, sent again by the client; ${result.refusedWebhooks} webhook posts answered other than 200, posted again`;
  const rows = [
    { ...result.textsOut!, scenario: `${label} amid outbound SMS (XMPP → Twilio)`, note: refused },
    { ...result.webhooks!, scenario: `${label} amid inbound webhooks (SMS → XMPP)`, note: what },
    { ...result.mailsIn!, scenario: `${label} amid inbound mail (IMAP → XMPP)`, note: what },
    { ...result.mailsOut!, scenario: `${label} amid outbound mail (XMPP → SMTP)`, note: what },
  ];
  for (const row of rows) record(row);
  assert.ok(result.bounced + result.refusedWebhooks > 0, "the full store was noticed: some work was refused while it lasted");
  for (const row of rows) assert.equal(row.lost, 0, JSON.stringify(row));
  for (const row of rows) assert.equal(row.doubled - (row.doubledSameId ?? 0), 0, JSON.stringify(row));
  assert.equal(rows[0]!.doubled, 0, `no text goes twice: ${JSON.stringify(rows[0])}`);
  assert.equal(rows[3]!.doubled, 0, `no mail goes twice: ${JSON.stringify(rows[3])}`);
});
