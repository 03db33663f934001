import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chat, joinSms, phoneJid, startSmsHarness, type SmsHarness } from "./sms-harness.js";
import type { TestClient } from "../support/xmpp-client.js";
import { fillStore, freeStore, STORE_KIND } from "../support/postgres.js";

// On SQLite the store lives on a small tmpfs so the test can fill the disk under the running
// gateway. PostgreSQL only notices a full disk when a table grows past its pages, so there the
// database is made to fail every write with its own disk-full error instead.
const onTmpfs = STORE_KIND === "sqlite";
const mount = mkdtempSync(join(tmpdir(), "switchboard-sms-small-disk-"));
let s: SmsHarness;
let juliet: TestClient;
const ROMEO = "+14155550123";

before(async () => {
  if (onTmpfs) {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mount]);
    mkdirSync(join(mount, "store"));
  }
  s = await startSmsHarness({
    config: (raw) => {
      if (onTmpfs) (raw.store as Record<string, unknown>).uri = `sqlite://${join(mount, "store", "switchboard.sqlite")}`;
    },
  });
  juliet = await s.h.login("juliet");
  await joinSms(juliet, { number: s.numbers[0]! });
});
after(async () => {
  await s?.stop();
  if (onTmpfs) execFileSync("umount", [mount]);
  rmSync(mount, { recursive: true, force: true });
});

test("with the gateway's disk full, Twilio's webhooks are answered 503 (not acknowledged), and the retry once space returns is delivered once", async () => {
  await juliet.send(chat(phoneJid(ROMEO), "before the disk filled", "disk-1"));
  const [sent] = await s.twilio.waitForMessages(1);
  const filler = join(mount, "filler");
  await fillStore(s.h.config.store.uri, filler);
  const sid = "SMfulldiskfulldiskfulldiskfulldi";
  const refused = await s.twilio.sendInbound({ accountSid: s.operator.sid, from: ROMEO, to: s.numbers[0]!, body: "while the disk is full", messageSid: sid });
  assert.equal(refused.status, 503);
  const mms = await s.twilio.sendInbound({
    accountSid: s.operator.sid,
    from: ROMEO,
    to: s.numbers[0]!,
    body: "picture while full",
    media: [{ contentType: "image/png", data: Buffer.from("png") }],
  });
  assert.equal(mms.status, 503);
  assert.equal(await s.twilio.postStatus(sent!.sid, "delivered"), 503);

  await freeStore(s.h.config.store.uri, filler);
  const retried = await s.twilio.sendInbound({ accountSid: s.operator.sid, from: ROMEO, to: s.numbers[0]!, body: "while the disk is full", messageSid: sid });
  assert.equal(retried.status, 200);
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "while the disk is full");
  await s.twilio.sendInbound({ accountSid: s.operator.sid, from: ROMEO, to: s.numbers[0]!, body: "marker" });
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "marker");
  assert.equal(juliet.messages().filter((stanza) => stanza.getChildText("body") === "while the disk is full").length, 0);
  assert.equal(
    s.h.gateway.services.every((service) => service.link.state === "online"),
    true,
  );
});
