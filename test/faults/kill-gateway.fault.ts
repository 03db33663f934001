// kill -9 of the gateway in the middle of 1,000 inbound webhooks, 1,000 inbound mails and 1,000
// outbound messages by mail and by SMS; after a restart every message must arrive exactly once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import nodemailer from "nodemailer";
import { simpleParser } from "mailparser";
import type { TestClient } from "../support/xmpp-client.js";
import { xml } from "../support/xmpp-client.js";
import { bodies, pool, sameIdCopies } from "./flow.js";
import { until } from "../support/wait.js";
import { record, tally } from "./ledger.js";
import { emailJid, mailAddress, NUMBER, phoneJid, startWorld, type World } from "./world.js";

const N = Number(process.env.FAULT_COUNT ?? 1000);
const ROMEO_PHONE = "+14155550123";
const KILL_AT = Math.floor(N * 0.3);
let w: World;
let juliet: TestClient;

before(async () => {
  w = await startWorld();
  juliet = await w.login("juliet");
  await w.join(juliet, "juliet");
});
after(async () => {
  await w?.stop();
});

test(`kill -9 during ${N} inbound webhooks: after a restart each text arrives exactly once`, async () => {
  const from = phoneJid(ROMEO_PHONE);
  const keys = Array.from({ length: N }, (_, i) => `webhook ${i}`);
  let killed = false;
  const killer = (async () => {
    await until(() => bodies(juliet, from).length >= KILL_AT, 120_000);
    await w.gateway.kill9();
    killed = true;
    await w.gateway.start();
  })();
  // Like Twilio, each webhook is posted again (same MessageSid) until the gateway answers 200.
  await pool(N, 10, async (i) => {
    const messageSid = `SM${i.toString(16).padStart(32, "0")}`;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const result = await w.twilio
        .sendInbound({ accountSid: w.operator.sid, from: ROMEO_PHONE, to: NUMBER, body: keys[i]!, messageSid, url: w.incomingUrl })
        .catch(() => ({ status: 0 }));
      if (result.status === 200 || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  await killer;
  await until(() => new Set(bodies(juliet, from)).size >= N, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const row = tally("kill -9 of the gateway during inbound webhooks (SMS → XMPP)", keys, bodies(juliet, from), {
    doubledSameId: sameIdCopies(juliet, from, keys),
  });
  record(row);
  assert.ok(killed);
  assert.equal(row.lost, 0, JSON.stringify(row));
  assert.equal(row.doubled - (row.doubledSameId ?? 0), 0, JSON.stringify(row));
});

test(`kill -9 during ${N} inbound mails: after a restart each mail arrives exactly once`, async () => {
  const romeo = mailAddress("romeo");
  const from = emailJid(romeo);
  const keys = Array.from({ length: N }, (_, i) => `mail ${i}`);
  const lmtp = nodemailer.createTransport({
    host: "127.0.0.1",
    port: w.dovecot.lmtpPort,
    lmtp: true,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 4,
  });
  await pool(N, 4, async (i) => {
    await lmtp.sendMail({
      envelope: { from: romeo, to: [mailAddress("juliet")] },
      from: romeo,
      to: mailAddress("juliet"),
      subject: `fault ${i}`,
      text: keys[i]!,
      messageId: `<fault-${i}@mail.example.test>`,
    });
  });
  lmtp.close();
  await until(() => bodies(juliet, from).length >= KILL_AT, 120_000);
  await w.gateway.kill9();
  await w.gateway.start();
  await until(() => new Set(bodies(juliet, from).map((body) => body.trim())).size >= N, 120_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const row = tally(
    "kill -9 of the gateway during inbound mail (IMAP → XMPP)",
    keys,
    bodies(juliet, from).map((body) => body.trim()),
    { doubledSameId: sameIdCopies(juliet, from, keys) },
  );
  record(row);
  assert.equal(row.lost, 0, JSON.stringify(row));
  assert.equal(row.doubled - (row.doubledSameId ?? 0), 0, JSON.stringify(row));
});

test(`kill -9 during ${N} outbound texts: after a restart Twilio has each exactly once`, async () => {
  const keys = Array.from({ length: N }, (_, i) => `text out ${i}`);
  const before = w.twilio.messages.length;
  for (const [i, key] of keys.entries())
    await juliet.send(xml("message", { to: phoneJid(ROMEO_PHONE), type: "chat", id: `out-sms-${i}` }, xml("body", {}, key)));
  await until(() => w.twilio.messages.length - before >= KILL_AT, 120_000);
  await w.gateway.kill9();
  await w.gateway.start();
  const sent = () => w.twilio.messages.slice(before).map((message) => message.body);
  await until(() => new Set(sent()).size >= N, 120_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const bounced = juliet.received.filter((stanza) => stanza.attrs.type === "error" && (stanza.attrs.id ?? "").startsWith("out-sms-")).length;
  const row = tally("kill -9 of the gateway during outbound SMS (XMPP → Twilio)", keys, sent(), {
    note: `what the killed process had taken on was looked up in Twilio's list of recent texts before going again.${bounced ? ` ${bounced} bounced back to the sender while the gateway was down.` : ""}`,
  });
  record(row);
  assert.equal(row.lost, 0, JSON.stringify(row));
  // Twilio's API has no idempotency key: the text in flight at the kill is found in its list instead.
  assert.equal(row.doubled, 0, JSON.stringify(row));
});

test(`kill -9 during ${N} outbound mails: after a restart the SMTP server has each exactly once`, async () => {
  const keys = Array.from({ length: N }, (_, i) => `mail out ${i}`);
  const before = w.relay.received.length;
  for (const [i, key] of keys.entries())
    await juliet.send(xml("message", { to: emailJid(mailAddress("romeo")), type: "chat", id: `out-mail-${i}` }, xml("body", {}, key)));
  await until(() => w.relay.received.length - before >= KILL_AT, 120_000);
  await w.gateway.kill9();
  await w.gateway.start();
  const parsed = async () => Promise.all(w.relay.received.slice(before).map(async (mail) => simpleParser(mail.raw)));
  const relayed = async () => (await parsed()).map((mail) => mail.text?.trim() ?? "");
  let texts: string[] = [];
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    texts = await relayed();
    if (new Set(texts).size >= N) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  texts = await relayed();
  const ids = (await parsed()).map((mail) => mail.messageId ?? "");
  const row = tally("kill -9 of the gateway during outbound mail (XMPP → SMTP)", keys, texts, { doubledSameId: ids.length - new Set(ids).size });
  record(row);
  assert.equal(row.lost, 0, JSON.stringify(row));
  assert.equal(row.doubled - (row.doubledSameId ?? 0), 0, JSON.stringify(row));
});
