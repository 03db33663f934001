// With the gateway's store full, a mail handed over by LMTP gets 452 4.3.1 (a temporary failure:
// the mail server keeps it and retries), and the retry once space returns reaches the chat once.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fillStore, freeStore, STORE_KIND } from "../support/postgres.js";
import type { TestClient } from "../support/xmpp-client.js";
import { joinHosted, mailText, MAIL_DOMAIN, RawLmtp, startLmtpWorld, TYBALT, type LmtpWorld } from "./lmtp-world.js";
import { emailJid, waitForChat } from "./world.js";

// On SQLite the store lives on a small tmpfs that the test fills under the running gateway; a
// PostgreSQL database is made to fail every write with its own disk-full error instead.
const onTmpfs = STORE_KIND === "sqlite";
const mount = mkdtempSync(join(tmpdir(), "switchboard-lmtp-small-disk-"));
const JULIET = `juliet@${MAIL_DOMAIN}`;
let world: LmtpWorld;
let juliet: TestClient;

before(async () => {
  if (onTmpfs) {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mount]);
    mkdirSync(join(mount, "store"));
  }
  world = await startLmtpWorld({
    config: (raw) => {
      if (onTmpfs) (raw.store as Record<string, unknown>).uri = `sqlite://${join(mount, "store", "switchboard.sqlite")}`;
    },
  });
  juliet = await world.h.login("juliet");
  await joinHosted(juliet, "juliet");
});
after(async () => {
  await world?.stop();
  if (onTmpfs) execFileSync("umount", [mount]);
  rmSync(mount, { recursive: true, force: true });
});

test("with the store full a mail gets 452 4.3.1, and the mail server's retry once space returns is delivered once", async () => {
  const raw = mailText({ From: TYBALT, To: JULIET, Subject: "disk", "Message-ID": "<full-1@capulet.test>" }, "while the disk is full");
  const filler = join(mount, "filler");
  await fillStore(world.h.config.store.uri, filler);
  const { client } = await RawLmtp.open(world.lmtpPort);
  try {
    await client.command("LHLO mta.example.test");
    const refused = await client.transaction(TYBALT, [JULIET], raw);
    assert.match(refused.replies[0]!, /^452 4\.3\.1 The gateway cannot store mail right now/);

    await freeStore(world.h.config.store.uri, filler);
    const retried = await client.transaction(TYBALT, [JULIET], raw);
    assert.match(retried.replies[0]!, /^250 2\.1\.5 /);
  } finally {
    client.close();
  }
  await waitForChat(juliet, TYBALT, (body) => body === "while the disk is full");
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(juliet.messages(emailJid(TYBALT)).filter((stanza) => stanza.getChildText("body") === "while the disk is full").length, 0);
  assert.ok(world.h.gateway.services.every((service) => service.link.state === "online"));
});
