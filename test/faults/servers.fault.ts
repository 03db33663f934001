// The servers around the gateway fail while messages flow: Prosody restarts (both directions),
// Dovecot restarts, the SMTP server is down for a while, Twilio answers 500 and 429, and Twilio
// retries a webhook it gave up waiting for. Every message must arrive exactly once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { simpleParser } from "mailparser";
import type { TestClient } from "../support/xmpp-client.js";
import { xml } from "../support/xmpp-client.js";
import { bodies, lmtpSender, metric, pool, sameIdCopies } from "./flow.js";
import { until } from "../support/wait.js";
import { record, tally, type Tally } from "./ledger.js";
import { countRowsHolding } from "../support/postgres.js";
import { readMailbox } from "../email/world.js";
import { emailJid, mailAddress, NUMBER, phoneJid, SMS as SMS_DOMAIN, startWorld, type World } from "./world.js";

const N = Number(process.env.FAULT_COUNT ?? 1000);
const SMTP_DOWN_MS = Number(process.env.FAULT_SMTP_DOWN_SECONDS ?? 30) * 1000;
const ROMEO_PHONE = "+14155550123";
const RESTARTS = Number(process.env.FAULT_RESTARTS ?? 10);
/** Message SIDs of the repeated-restart scenario start here, apart from the first scenario's. */
const RESTART_SIDS = 1_000_000;
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

/** Posts a webhook until the gateway answers 200, as Twilio retries (bounded). */
async function webhook(index: number, body: string, options: { abortAfterMs?: number } = {}): Promise<void> {
  const messageSid = `SM${(0x100000 + index).toString(16).padStart(32, "0")}`;
  const deadline = Date.now() + 120_000;
  let first = true;
  for (;;) {
    if (first && options.abortAfterMs !== undefined) {
      // Twilio gave up waiting for this one and will try again: cut the request short.
      const { default: twilio } = await import("twilio");
      const params = { MessageSid: messageSid, SmsSid: messageSid, AccountSid: w.operator.sid, From: ROMEO_PHONE, To: NUMBER, Body: body, NumMedia: "0" };
      const signature = twilio.getExpectedTwilioSignature(w.operator.authToken, w.incomingUrl, params);
      await fetch(w.incomingUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(options.abortAfterMs),
      }).catch(() => undefined);
    }
    first = false;
    const result = await w.twilio
      .sendInbound({ accountSid: w.operator.sid, from: ROMEO_PHONE, to: NUMBER, body, messageSid, url: w.incomingUrl })
      .catch(() => ({ status: 0 }));
    if (result.status === 200 || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The Message-ID of the mail whose text is `key` ("prosody mail 7"). */
const messageIdOf = (key: string): string => `<${key.replaceAll(" ", "-")}@mail.example.test>`;

async function mailToJuliet(lmtp: ReturnType<typeof lmtpSender>, mail: { subject: string; text: string; messageId: string }): Promise<void> {
  await lmtp.sendMail({
    envelope: { from: mailAddress("romeo"), to: [mailAddress("juliet")] },
    from: mailAddress("romeo"),
    to: mailAddress("juliet"),
    ...mail,
  });
}

async function relogin(): Promise<void> {
  const kept = juliet.received.splice(0);
  juliet = await w.login("juliet");
  juliet.received.unshift(...kept);
}

/**
 * The tally of messages from `from` carried through Prosody restarts. A message that did not arrive
 * but that the gateway holds as confirmed by Prosody (Prosody answered the ping after it) can still
 * die between Prosody and our client, which has no stream management, when Prosody shuts down:
 * that is not the gateway's to keep. `confirmed` counts such messages among the missing ones. They
 * are noted, and tolerated up to one in a thousand; any other loss fails the row.
 */
async function throughRestarts(scenario: string, keys: string[], from: string, confirmed: (missing: string[]) => Promise<number>): Promise<Tally> {
  const arrived = bodies(juliet, from);
  const got = new Set(arrived);
  const afterServer = await confirmed(keys.filter((key) => !got.has(key)));
  const row = tally(scenario, keys, arrived, {
    doubledSameId: sameIdCopies(juliet, from, keys),
    ...(afterServer > 0 && { note: `${afterServer} lost after Prosody had confirmed them, between Prosody and a client without stream management` }),
  });
  const excused = afterServer <= Math.ceil(keys.length / 1_000) ? afterServer : 0;
  return { ...row, result: row.lost === excused && row.doubled === row.doubledSameId ? "pass" : "fail" };
}

/** Texts the gateway recorded as delivered: the seen row of a text keeps its start, for reactions
 *  that quote it (one set aside keeps none). */
const textsConfirmed = async (missing: string[]): Promise<number> => {
  const held = await Promise.all(missing.map(async (key) => (await countRowsHolding(w.storeUri, "seen", "value", `"excerpt":${JSON.stringify(key)}`)) > 0));
  return held.filter(Boolean).length;
};

const textsThroughRestarts = (scenario: string, keys: string[]): Promise<Tally> => throughRestarts(scenario, keys, phoneJid(ROMEO_PHONE), textsConfirmed);

test(`Prosody restarted while ${N} texts and ${N} mails flow in: each arrives once`, async () => {
  const sms = phoneJid(ROMEO_PHONE);
  const mail = emailJid(mailAddress("romeo"));
  const textKeys = Array.from({ length: N }, (_, i) => `prosody text ${i}`);
  const mailKeys = Array.from({ length: N }, (_, i) => `prosody mail ${i}`);
  const lmtp = lmtpSender(w.dovecot.lmtpPort);
  const restart = (async () => {
    await until(() => bodies(juliet, sms).length + bodies(juliet, mail).length >= N * 0.6, 120_000);
    // Which messages were on their way when Prosody went down: a loss the note excuses is among them.
    console.log(`Prosody restarted with ${bodies(juliet, sms).length} texts and ${bodies(juliet, mail).length} mails arrived`);
    await w.prosody.restart();
    await relogin();
  })();
  await Promise.all([
    pool(N, 10, (i) => webhook(i, textKeys[i]!)),
    pool(N, 2, async (i) => {
      await mailToJuliet(lmtp, { subject: `p${i}`, text: mailKeys[i]!, messageId: messageIdOf(mailKeys[i]!) });
    }),
  ]);
  lmtp.close();
  await restart;
  // Messages the server stored while Juliet was between sessions reach her on login.
  await until(() => new Set(bodies(juliet, sms)).size >= N && new Set(bodies(juliet, mail)).size >= N, 120_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const texts = await textsThroughRestarts("Prosody restarted during inbound texts (SMS → XMPP)", textKeys);
  // A mail the gateway marked \Seen in Dovecot had its chat message confirmed by Prosody.
  const mailsConfirmed = async (missing: string[]): Promise<number> => {
    if (missing.length === 0) return 0;
    const ids = new Set(missing.map(messageIdOf));
    return (await readMailbox(w, mailAddress("juliet"))).filter((entry) => ids.has(entry.mail.messageId ?? "") && entry.flags.has("\\Seen")).length;
  };
  const mails = await throughRestarts("Prosody restarted during inbound mail (IMAP → XMPP)", mailKeys, mail, mailsConfirmed);
  record(texts);
  record(mails);
  assert.equal(texts.result, "pass", JSON.stringify(texts));
  assert.equal(mails.result, "pass", JSON.stringify(mails));
});

test(`Prosody restarted ${RESTARTS} times in a row while texts flow in: none is set aside, each arrives`, async () => {
  const sms = phoneJid(ROMEO_PHONE);
  const refusedBefore = await metric(w.gateway.httpPort, "switchboard_stanzas_refused_total");
  const keys: string[] = [];
  let restarting = true;
  // A restarting server closes the component stream without a stream error, at any point of the
  // link's work: while it drains a backlog, while it sends a stanza alone after the last close.
  // None of that may make the link take a message for one the server refuses.
  const restarts = (async () => {
    for (let i = 0; i < RESTARTS; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 300 + ((i * 383) % 1200)));
      await w.prosody.restart();
      await relogin();
    }
    restarting = false;
  })();
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      // Bounded by the restarts, and by a count in case the restarts run slow.
      while (restarting && keys.length < 30_000) {
        const i = keys.push(`restarts text ${keys.length}`) - 1;
        await webhook(RESTART_SIDS + i, keys[i]!);
      }
    }),
  );
  await restarts;
  await until(() => new Set(bodies(juliet, sms)).size >= keys.length, 120_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const row = await textsThroughRestarts(`Prosody restarted ${RESTARTS} times during inbound texts (SMS → XMPP)`, keys);
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
  assert.equal(await metric(w.gateway.httpPort, "switchboard_stanzas_refused_total"), refusedBefore, "no stanza was set aside");
});

test(`Prosody restarted while ${N} texts go out: each reaches Twilio once`, async () => {
  const keys = Array.from({ length: N }, (_, i) => `prosody out ${i}`);
  const before = w.twilio.messages.length;
  const half = Math.floor(N / 2);
  for (let i = 0; i < half; i += 1) await juliet.send(xml("message", { to: phoneJid(ROMEO_PHONE), type: "chat", id: `po-${i}` }, xml("body", {}, keys[i]!)));
  // Our test client has no stream management: what it wrote but Prosody had not yet routed would
  // die with Prosody and say nothing about the gateway. The gateway handles a sender's stanzas in
  // order, so its answer to a ping means it has the messages before it.
  await juliet.iq(xml("iq", { type: "get", to: SMS_DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })), 60_000);
  await w.prosody.restart();
  await w.gateway.waitReady();
  await relogin();
  for (let i = half; i < N; i += 1) await juliet.send(xml("message", { to: phoneJid(ROMEO_PHONE), type: "chat", id: `po-${i}` }, xml("body", {}, keys[i]!)));
  const sent = () => w.twilio.messages.slice(before).map((message) => message.body);
  await until(() => new Set(sent()).size >= N, 120_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const row = tally("Prosody restarted during outbound texts (XMPP → Twilio)", keys, sent());
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
});

test(`Dovecot restarted while ${N} mails are read: each arrives once`, async () => {
  const from = emailJid(mailAddress("romeo"));
  const keys = Array.from({ length: N }, (_, i) => `dovecot mail ${i}`);
  const lmtp = lmtpSender(w.dovecot.lmtpPort);
  const first = Math.floor(N * 0.6);
  await pool(first, 2, async (i) => {
    await mailToJuliet(lmtp, { subject: `d${i}`, text: keys[i]!, messageId: `<dovecot-${i}@mail.example.test>` });
  });
  lmtp.close();
  await until(() => bodies(juliet, from).filter((body) => body.startsWith("dovecot")).length >= N * 0.2, 120_000);
  await w.dovecot.restart();
  const again = lmtpSender(w.dovecot.lmtpPort);
  await pool(N - first, 2, async (j) => {
    const i = first + j;
    await mailToJuliet(again, { subject: `d${i}`, text: keys[i]!, messageId: `<dovecot-${i}@mail.example.test>` });
  });
  again.close();
  await until(() => new Set(bodies(juliet, from)).size >= keys.length + 0 && keys.every((key) => bodies(juliet, from).includes(key)), 120_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const row = tally("Dovecot restarted during inbound mail (IMAP → XMPP)", keys, bodies(juliet, from), { doubledSameId: sameIdCopies(juliet, from, keys) });
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
});

test(`the SMTP server down for ${SMTP_DOWN_MS / 1000} s: the ${Math.min(N, 200)} mails written meanwhile all go out once it is back`, async () => {
  const count = Math.min(N, 200);
  const keys = Array.from({ length: count }, (_, i) => `smtp down ${i}`);
  const before = w.relay.received.length;
  await w.relay.stop();
  const downSince = Date.now();
  for (const [i, key] of keys.entries())
    await juliet.send(xml("message", { to: emailJid(mailAddress("romeo")), type: "chat", id: `sd-${i}` }, xml("body", {}, key)));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, SMTP_DOWN_MS - (Date.now() - downSince))));
  assert.equal(w.relay.received.length, before);
  await w.relay.start();
  const texts = async () => Promise.all(w.relay.received.slice(before).map(async (mail) => (await simpleParser(mail.raw)).text?.trim() ?? ""));
  const deadline = Date.now() + 180_000;
  let got: string[] = [];
  while (Date.now() < deadline) {
    got = await texts();
    if (new Set(got).size >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  got = await texts();
  const errors = juliet.received.filter((stanza) => stanza.attrs.type === "error" && (stanza.attrs.id ?? "").startsWith("sd-")).length;
  const row = tally(`SMTP server down ${SMTP_DOWN_MS / 1000} s, then back (XMPP → SMTP)`, keys, got, {
    note: errors ? `${errors} error messages to the sender` : "",
  });
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
  assert.equal(errors, 0, "a temporary outage is not reported as a failure");
});

test(`Twilio answering 500 then 429 for a while: ${N} texts reach it once each`, async () => {
  const keys = Array.from({ length: N }, (_, i) => `twilio busy ${i}`);
  const before = w.twilio.messages.length;
  w.twilio.failNext(50, 500);
  w.twilio.failNext(50, 429);
  for (const [i, key] of keys.entries()) await juliet.send(xml("message", { to: phoneJid(ROMEO_PHONE), type: "chat", id: `tb-${i}` }, xml("body", {}, key)));
  const sent = () => w.twilio.messages.slice(before).map((message) => message.body);
  await until(() => new Set(sent()).size >= N, 180_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const errors = juliet.received.filter((stanza) => stanza.attrs.type === "error" && (stanza.attrs.id ?? "").startsWith("tb-")).length;
  const row = tally("Twilio answering 500, then 429, for 100 requests (XMPP → Twilio)", keys, sent(), {
    note: errors ? `${errors} error messages to the sender` : "",
  });
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
});

test(`webhooks Twilio retries after giving up waiting: ${Math.min(N, 300)} texts, each delivered once`, async () => {
  const count = Math.min(N, 300);
  const from = phoneJid(ROMEO_PHONE);
  const keys = Array.from({ length: count }, (_, i) => `retried webhook ${i}`);
  await pool(count, 10, (i) => webhook(5_000 + i, keys[i]!, { abortAfterMs: 1 + (i % 5) }));
  await until(() => keys.every((key) => bodies(juliet, from).includes(key)), 60_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const row = tally("Webhooks cut short and retried by Twilio (SMS → XMPP)", keys, bodies(juliet, from), { doubledSameId: sameIdCopies(juliet, from, keys) });
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
});
