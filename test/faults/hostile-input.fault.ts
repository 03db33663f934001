// Hostile input through the gateway running as its own process: generated webhooks and mails
// that are malformed, forged, huge or odd. Each is answered (HTTP 4xx, a logged rejection) or
// handed on cleaned; the gateway never crashes or drops its XMPP link, and valid messages in
// flight are not lost.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import twilio from "twilio";
import type { TestClient } from "../support/xmpp-client.js";
import { bodies, lmtpSender, metric } from "./flow.js";
import { until } from "../support/wait.js";
import { record, tally } from "./ledger.js";
import { emailJid, mailAddress, NUMBER, phoneJid, startWorld, EMAIL, MAIL_PASSWORD, type World } from "./world.js";
import { statSync } from "node:fs";
import { join } from "node:path";
import { encodedName, hostileStrings, replyBytes } from "./hostile-text.js";
import { HostileImap } from "../support/hostile-imap.js";
import { STORE_KIND } from "../support/postgres.js";
import { registrationForm } from "../support/register.js";
import { xml, errorText } from "../support/xmpp-client.js";

let w: World;
let juliet: TestClient;
const ROMEO_PHONE = "+14155550123";

before(async () => {
  w = await startWorld();
  juliet = await w.login("juliet");
  await w.join(juliet, "juliet");
});
after(async () => {
  await w?.stop();
});

const healthy = async (): Promise<boolean> => {
  const health = await fetch(`http://127.0.0.1:${w.gateway.httpPort}/healthz`).then(
    (response) => response.json() as Promise<{ status: string }>,
    () => undefined,
  );
  return health?.status === "ok";
};

interface WebhookCase {
  name: string;
  params?: Record<string, string>;
  body?: string | Buffer;
  headers?: Record<string, string>;
  method?: string;
  sign?: "valid" | "forged" | "other-url" | "none";
  expect: (status: number) => boolean;
}

function webhookCases(): WebhookCase[] {
  const base = (i: number): Record<string, string> => ({
    MessageSid: `SM${(0x900000 + i).toString(16).padStart(32, "0")}`,
    AccountSid: w.operator.sid,
    From: ROMEO_PHONE,
    To: NUMBER,
    Body: `hostile ${i}`,
    NumMedia: "0",
  });
  const cases: WebhookCase[] = [];
  const refused = (status: number) => status >= 400 && status < 500;
  let i = 0;
  for (const sign of ["forged", "other-url", "none"] as const)
    for (let k = 0; k < 10; k += 1) cases.push({ name: `signature ${sign} ${k}`, params: base(i++), sign, expect: (status) => status === 403 });
  for (const field of ["MessageSid", "AccountSid", "From", "To"]) {
    const params = base(i++);
    delete params[field];
    cases.push({ name: `missing ${field}`, params, sign: "valid", expect: refused });
  }
  for (const [field, value] of [
    ["From", "not a number"],
    ["From", "+1".padEnd(40, "9")],
    ["To", "+19999999999"],
    ["NumMedia", "3"],
    ["NumMedia", "-1"],
    ["NumMedia", "many"],
    ["Body", "\u0000\u0001\u0007 control \uFFFE characters"],
    ["Body", "x".repeat(5000)],
    ["MessageSid", "../../etc/passwd"],
    ["AccountSid", `AC${"0".repeat(32)}`],
  ] as const) {
    cases.push({ name: `odd ${field}=${value.slice(0, 20)}`, params: { ...base(i++), [field]: value }, sign: "valid", expect: (status) => status < 500 });
  }
  for (const type of ["application/json", "text/plain", "multipart/form-data; boundary=x", "application/xml", ""]) {
    cases.push({ name: `content type "${type}"`, params: base(i++), sign: "valid", headers: { "content-type": type }, expect: refused });
  }
  cases.push({ name: "1 MB body", body: Buffer.alloc(1024 * 1024, 0x61), sign: "none", expect: (status) => status === 413 || status === 403 });
  cases.push({ name: "GET instead of POST", method: "GET", sign: "none", expect: (status) => status === 405 || status === 404 });
  cases.push({ name: "PUT instead of POST", method: "PUT", sign: "none", expect: (status) => status === 405 || status === 404 });
  cases.push({ name: "not form-encoded at all", body: "%%%\u0000%%%", sign: "none", expect: refused });
  for (let k = 0; k < 20; k += 1) {
    const junk = Buffer.from(Array.from({ length: 200 + k * 37 }, (_, n) => (n * 131 + k * 17) % 256));
    cases.push({ name: `random bytes ${k}`, body: junk, sign: "none", expect: refused });
  }
  return cases;
}

function post(testCase: WebhookCase): Promise<number> {
  const url = new URL(w.incomingUrl);
  const params = testCase.params ?? {};
  const body = testCase.body ?? new URLSearchParams(params).toString();
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", ...testCase.headers };
  const token = testCase.sign === "forged" ? "f".repeat(32) : w.operator.authToken;
  const signedUrl = testCase.sign === "other-url" ? "https://elsewhere.example/sms/incoming" : w.incomingUrl;
  if (testCase.sign && testCase.sign !== "none") headers["x-twilio-signature"] = twilio.getExpectedTwilioSignature(token, signedUrl, params);
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: testCase.method ?? "POST", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.setTimeout(20_000, () => req.destroy());
    if ((testCase.method ?? "POST") === "POST") req.end(body);
    else req.end();
  });
}

/** A client that sends the headers and then a byte every 200 ms. */
function slowClient(): Promise<number> {
  const url = new URL(w.incomingUrl);
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "content-length": "100000" },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", () => resolve(0));
    let sent = 0;
    const timer = setInterval(() => {
      if (sent++ > 25) {
        clearInterval(timer);
        req.destroy();
        resolve(-1);
        return;
      }
      req.write("a");
    }, 200);
    req.on("close", () => clearInterval(timer));
  });
}

test("hostile webhooks are each refused or handled, valid texts in flight still arrive, the link stays up", async () => {
  const cases = webhookCases();
  const from = phoneJid(ROMEO_PHONE);
  const valid = Array.from({ length: 20 }, (_, i) => `valid text ${i}`);
  const results = await Promise.all([
    ...cases.map(async (testCase) => ({ testCase, status: await post(testCase) })),
    ...valid.map(async (body, i) => ({
      testCase: { name: body, expect: (status: number) => status === 200 } as WebhookCase,
      status: (
        await w.twilio.sendInbound({
          accountSid: w.operator.sid,
          from: ROMEO_PHONE,
          to: NUMBER,
          body,
          messageSid: `SM${(0xa00000 + i).toString(16).padStart(32, "0")}`,
          url: w.incomingUrl,
        })
      ).status,
    })),
  ]);
  const slow = await slowClient();
  const wrong = results.filter(({ testCase, status }) => !testCase.expect(status)).map(({ testCase, status }) => `${testCase.name}: ${status}`);
  assert.deepEqual(wrong, []);
  assert.notEqual(slow, 200, "a body that never finishes is not accepted");
  await until(() => valid.every((body) => bodies(juliet, from).includes(body)), 30_000);
  const row = tally(
    `${cases.length + 1} hostile webhooks among 20 valid texts (SMS → XMPP)`,
    valid,
    bodies(juliet, from).filter((body) => body.startsWith("valid text")),
    {
      note: `each hostile one answered 4xx or handled; the gateway stayed up (${(await healthy()) ? "link online" : "LINK DOWN"})`,
    },
  );
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
  assert.ok(await healthy());
  assert.ok(w.gateway.running, "the gateway process is still the one that was started");
});

function hostileMails(): Array<{ name: string; raw: Buffer }> {
  const from = mailAddress("romeo");
  const to = mailAddress("juliet");
  const header = (extra = ""): string =>
    `From: Romeo <${from}>\r\nTo: ${to}\r\nSubject: hostile\r\nMessage-ID: <h-${Math.random().toString(36).slice(2)}@mail.example.test>\r\nDate: Tue, 24 Nov 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n${extra}`;
  const mails: Array<{ name: string; raw: Buffer }> = [];
  const add = (name: string, raw: string | Buffer) => mails.push({ name, raw: typeof raw === "string" ? Buffer.from(raw, "latin1") : raw });
  add(
    "invalid UTF-8",
    Buffer.concat([
      Buffer.from(`${header("Content-Type: text/plain; charset=utf-8\r\n")}\r\n`),
      Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0x0d, 0x0a]),
    ]),
  );
  for (const charset of ["x-klingon", "utf-7", "iso-2022-jp", "windows-1258", "", "utf-16", "ebcdic-cp-us"])
    add(`charset "${charset}"`, `${header(`Content-Type: text/plain; charset="${charset}"\r\n`)}\r\ncaf\xe9 na\xefve\r\n`);
  add("NUL and control characters", `${header()}\r\nnul\u0000 bell\u0007 esc\u001b form\u000c feed\r\n`);
  add("10 MB body", `${header()}\r\n${"0123456789abcdef".repeat(655_360)}\r\n`);
  add(
    "thousands of recipients",
    `${header().replace(`To: ${to}`, `To: ${Array.from({ length: 3000 }, (_, i) => `r${i}@example.org`).join(",\r\n ")}`)}\r\nmany recipients\r\n`,
  );
  let nested = "deep leaf\r\n";
  for (let depth = 0; depth < 60; depth += 1)
    nested = `--b${depth}\r\nContent-Type: multipart/mixed; boundary="b${depth - 1}"\r\n\r\n${nested}\r\n--b${depth}--\r\n`;
  add("60-deep nested multiparts", `${header('Content-Type: multipart/mixed; boundary="b59"\r\n')}\r\n${nested}`);
  add("missing From", `${header().replace(/^From:.*\r\n/, "")}\r\nno sender\r\n`);
  add("empty From", `${header().replace(/^From:.*\r\n/, "From: \r\n")}\r\nempty sender\r\n`);
  add("From that is not an address", `${header().replace(/^From:.*\r\n/, "From: <<<@@@>>>\r\n")}\r\nbad sender\r\n`);
  add(
    "header injection in the display name",
    `${header().replace(/^From:.*\r\n/, `From: "Romeo\\r\\nBcc: everyone@example.org" <${from}>\r\n`)}\r\ninjected\r\n`,
  );
  add(
    "encoded-word injection",
    `${header().replace("Subject: hostile", `Subject: =?utf-8?B?${Buffer.from("Hi\r\nBcc: x@example.org\u0000").toString("base64")}?=`)}\r\nencoded\r\n`,
  );
  add(
    "HTML with scripts and tracking pixels",
    `${header("Content-Type: text/html; charset=utf-8\r\n")}\r\n<html><script>alert(1)</script><body onload=x()>Hello<img src="https://track.example/p.gif" width=1 height=1><iframe src="javascript:x"></iframe></body></html>\r\n`,
  );
  add(
    "zero-length attachment",
    `${header('Content-Type: multipart/mixed; boundary="z"\r\n')}\r\n--z\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--z\r\nContent-Type: application/octet-stream; name="empty.bin"\r\nContent-Disposition: attachment; filename="empty.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\n--z--\r\n`,
  );
  add(
    "5 MB attachment",
    `${header('Content-Type: multipart/mixed; boundary="z"\r\n')}\r\n--z\r\nContent-Type: text/plain\r\n\r\nbig file\r\n--z\r\nContent-Type: application/octet-stream; name="big.bin"\r\nContent-Disposition: attachment; filename="../../etc/big.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(
      5 * 1024 * 1024,
      7,
    )
      .toString("base64")
      .replace(/.{76}/g, "$&\r\n")}\r\n--z--\r\n`,
  );
  add("broken boundary", `${header('Content-Type: multipart/mixed; boundary="nope"\r\n')}\r\n--other\r\nContent-Type: text/plain\r\n\r\nlost part\r\n`);
  add("base64 garbage", `${header("Content-Transfer-Encoding: base64\r\n")}\r\n!!!not base64 at all$$$\r\n`);
  add("quoted-printable garbage", `${header("Content-Transfer-Encoding: quoted-printable\r\n")}\r\n=ZZ=\r\n=0=1=\r\n`);
  add("no body at all", header());
  add("very long header line", `${header(`X-Long: ${"x".repeat(200_000)}\r\n`)}\r\nlong header\r\n`);
  add("Date in the year 9999", `${header().replace(/^Date:.*$/m, "Date: Fri, 31 Dec 9999 23:59:59 +0000")}\r\nfuture\r\n`);
  add("Date that is not a date", `${header().replace(/^Date:.*$/m, "Date: yesterday-ish")}\r\nno date\r\n`);
  add("References loop", `${header("References: <a@x> <a@x> <a@x>\r\nIn-Reply-To: <a@x>\r\n")}\r\nloop\r\n`);
  for (let k = 0; k < 60; k += 1) {
    const bytes = Buffer.from(Array.from({ length: 300 + k * 11 }, (_, n) => (n * 197 + k * 31) % 256));
    add(`random body bytes ${k}`, Buffer.concat([Buffer.from(`${header()}\r\n`), bytes]));
  }
  return mails;
}

test("hostile mails are handed on cleaned or left with a logged reason; mail after them still arrives; the gateway stays up", async () => {
  const mails = hostileMails();
  const lmtp = lmtpSender(w.dovecot.lmtpPort);
  const valid = Array.from({ length: 20 }, (_, i) => `valid mail ${i}`);
  const romeo = mailAddress("romeo");
  for (const [i, mail] of mails.entries()) {
    await lmtp.sendMail({ envelope: { from: romeo, to: [mailAddress("juliet")] }, raw: mail.raw });
    if (i % 5 === 0)
      await lmtp.sendMail({
        envelope: { from: romeo, to: [mailAddress("juliet")] },
        from: romeo,
        to: mailAddress("juliet"),
        subject: "valid",
        text: valid[i / 5]!,
        messageId: `<valid-${i}@mail.example.test>`,
      });
  }
  for (let i = Math.ceil(mails.length / 5); i < valid.length; i += 1) {
    await lmtp.sendMail({
      envelope: { from: romeo, to: [mailAddress("juliet")] },
      from: romeo,
      to: mailAddress("juliet"),
      subject: "valid",
      text: valid[i]!,
      messageId: `<valid-late-${i}@mail.example.test>`,
    });
  }
  lmtp.close();
  const fromRomeo = emailJid(romeo);
  await until(() => valid.every((body) => bodies(juliet, fromRomeo).includes(body)), 120_000);
  const row = tally(
    `${mails.length} hostile mails among 20 valid ones (IMAP → XMPP)`,
    valid,
    bodies(juliet, fromRomeo).filter((body) => body.startsWith("valid mail")),
    {
      note: `${juliet.received.filter((stanza) => stanza.name === "message" && stanza.attrs.from === fromRomeo).length - valid.length} hostile ones handed on cleaned, the rest left in the mailbox; the gateway stayed up`,
    },
  );
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
  assert.ok(await healthy(), "the component links are still online");
  assert.ok(w.gateway.running, "the gateway process is still the one that was started");
  assert.equal(w.gateway.starts, 1);
});

test("mails from 120 new senders with hostile display names all arrive, and the component link never drops", async () => {
  const names = hostileStrings(120, 42);
  const lmtp = lmtpSender(w.dovecot.lmtpPort);
  const to = mailAddress("juliet");
  const stranger = (i: number): string => `stranger${i}@mail.example.test`;
  for (const [i, name] of names.entries()) {
    const raw = Buffer.concat([
      Buffer.from("From: "),
      encodedName(name, i),
      Buffer.from(
        ` <${stranger(i)}>\r\nTo: ${to}\r\nSubject: hello ${i}\r\nMessage-ID: <named-${i}@mail.example.test>\r\nDate: Tue, 24 Nov 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nnamed ${i}\r\n`,
      ),
    ]);
    await lmtp.sendMail({ envelope: { from: stranger(i), to: [to] }, raw });
  }
  lmtp.close();
  const expected = names.map((_, i) => `named ${i}`);
  const arrived = (): string[] => names.flatMap((_, i) => bodies(juliet, emailJid(stranger(i))));
  await until(() => expected.every((body) => arrived().includes(body)), 120_000);
  const row = tally(`${names.length} mails from new senders with hostile display names (IMAP → XMPP)`, expected, arrived(), {
    note: "each sender offered as a contact under its cleaned name; link drops counted below",
  });
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
  assert.equal(await metric(w.gateway.httpPort, "switchboard_component_link_drops_total"), 0, "the component links never dropped");
});

test("40 SMTP refusals carrying hostile text each come back to the sender as a clean error", async () => {
  const texts = hostileStrings(40, 7);
  const romeo = emailJid(mailAddress("romeo"));
  const answered: string[] = [];
  try {
    for (const [i, text] of texts.entries()) {
      w.relay.refuse(550, `5.1.1 ${text}`);
      const id = `smtp-refused-${i}`;
      await juliet.send(xml("message", { type: "chat", to: romeo, id }, xml("body", {}, `refuse me ${i}`)));
      const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === id, 30_000);
      if (errorText(error).includes("5.1.1")) answered.push(id);
    }
  } finally {
    w.relay.accept();
  }
  const row = tally(
    `${texts.length} SMTP refusals with hostile reply text (XMPP → e-mail)`,
    texts.map((_, i) => `smtp-refused-${i}`),
    answered,
    { note: "each told to the sender as a stanza error with the server's (cleaned) words" },
  );
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
  assert.equal(await metric(w.gateway.httpPort, "switchboard_component_link_drops_total"), 0);
});

test("30 IMAP servers answering a login with hostile bytes: each registration is refused with a clean error", async () => {
  const imap = new HostileImap();
  await imap.start();
  const romeo = await w.login("romeo");
  const texts = hostileStrings(30, 11);
  const refused: string[] = [];
  try {
    for (const [i, text] of texts.entries()) {
      imap.reply = replyBytes(text, i);
      const reply = await romeo.iq(
        xml(
          "iq",
          { type: "set", to: EMAIL },
          xml(
            "query",
            { xmlns: "jabber:iq:register" },
            registrationForm({
              address: mailAddress("romeo"),
              imap_host: "127.0.0.1",
              imap_port: String(imap.port),
              imap_security: "none",
              smtp_host: "127.0.0.1",
              smtp_port: String(w.relay.port),
              smtp_security: "none",
              password: MAIL_PASSWORD,
            }),
          ),
        ),
        30_000,
      );
      if (reply.attrs.type === "error" && errorText(reply).length > 0) refused.push(`imap-${i}`);
    }
  } finally {
    await imap.stop();
  }
  const row = tally(
    `${texts.length} IMAP login replies with hostile bytes (registration)`,
    texts.map((_, i) => `imap-${i}`),
    refused,
    { note: "each registration refused with a stanza error" },
  );
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
  assert.ok(imap.logins >= texts.length, "the gateway really logged in to the hostile server each time");
  assert.equal(await metric(w.gateway.httpPort, "switchboard_component_link_drops_total"), 0);
});

test("30 bounces whose diagnostics carry hostile text reach the sender as clean errors on the right message", async () => {
  const texts = hostileStrings(30, 13);
  const romeoAddress = mailAddress("romeo");
  const before = w.relay.received.length;
  for (const [i] of texts.entries()) {
    await juliet.send(xml("message", { type: "chat", to: emailJid(romeoAddress), id: `bounce-${i}` }, xml("body", {}, `bounce me ${i}`)));
  }
  await w.relay.waitForMail(before + texts.length, 60_000);
  const lmtp = lmtpSender(w.dovecot.lmtpPort);
  for (const [i, text] of texts.entries()) {
    const sent = w.relay.received.slice(before).find((mail) => mail.raw.toString("utf8").includes(`bounce me ${i}`))!;
    const messageId = /^Message-ID:\s*(<[^>]+>)/im.exec(sent.raw.toString("utf8"))![1]!;
    const dsn = [
      "From: MAILER-DAEMON@mail.example.test",
      `To: ${mailAddress("juliet")}`,
      "Subject: Undelivered Mail Returned to Sender",
      `Message-ID: <dsn-${i}@mail.example.test>`,
      'Content-Type: multipart/report; report-type=delivery-status; boundary="R"',
      "MIME-Version: 1.0",
      "",
      "--R",
      "Content-Type: text/plain; charset=utf-8",
      "",
      `Sorry ${text}`,
      "--R",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mail.example.test",
      "",
      `Final-Recipient: rfc822; ${romeoAddress}`,
      "Action: failed",
      "Status: 5.1.1",
      `Diagnostic-Code: smtp; 550 5.1.1 ${text}`,
      "",
      "--R",
      "Content-Type: text/rfc822-headers",
      "",
      `From: ${mailAddress("juliet")}`,
      `Message-ID: ${messageId}`,
      "--R--",
      "",
    ].join("\r\n");
    await lmtp.sendMail({ envelope: { from: "", to: [mailAddress("juliet")] }, raw: Buffer.from(dsn, "utf8") });
  }
  lmtp.close();
  const bounced = new Set<string>();
  await until(() => {
    for (const stanza of juliet.received) if (stanza.attrs.type === "error" && stanza.attrs.id?.startsWith("bounce-")) bounced.add(stanza.attrs.id);
    return bounced.size >= texts.length;
  }, 60_000);
  const row = tally(
    `${texts.length} bounces with hostile diagnostics (e-mail → XMPP error)`,
    texts.map((_, i) => `bounce-${i}`),
    [...bounced],
    { note: "each matched to the message it reports on" },
  );
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
  assert.equal(await metric(w.gateway.httpPort, "switchboard_component_link_drops_total"), 0);
});

test("40 odd stanzas from a client are each answered or ignored; the gateway and its links stay up", async () => {
  const texts = hostileStrings(10, 17).map((text) => text.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "").toWellFormed());
  const romeo = emailJid(mailAddress("romeo"));
  const stanzas = [
    ...texts.map((text, i) => xml("message", { type: "chat", to: romeo, id: `odd-subject-${i}` }, xml("subject", {}, text), xml("body", {}, `subject ${i}`))),
    ...texts.map((text, i) => xml("message", { type: "groupchat", to: romeo, id: `odd-group-${i}` }, xml("body", {}, text))),
    ...texts.map((text, i) => xml("presence", { to: romeo, id: `odd-presence-${i}` }, xml("status", {}, text))),
    ...texts.map((text, i) =>
      xml(
        "iq",
        { type: "get", to: `${text.replace(/[@/\s]/g, "") || "x"}@${EMAIL}`, id: `odd-iq-${i}` },
        xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }),
      ),
    ),
  ];
  for (const stanza of stanzas) await juliet.send(stanza).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assert.ok(await healthy(), "the component links are still online");
  assert.ok(w.gateway.running);
  record({
    scenario: `${stanzas.length} odd stanzas from a client (XMPP → gateway)`,
    sent: stanzas.length,
    delivered: stanzas.length,
    lost: 0,
    doubled: 0,
    result: "pass",
    note: "each answered with an error or handled; the gateway stayed up",
  });
});

test("over the whole corpus the component links never dropped, no stanza was refused, and state files are private", async () => {
  assert.equal(await metric(w.gateway.httpPort, "switchboard_component_link_drops_total"), 0, "link drops");
  assert.equal(await metric(w.gateway.httpPort, "switchboard_stanzas_refused_total"), 0, "stanzas set aside");
  assert.ok(w.gateway.running);
  assert.equal(w.gateway.starts, 1);
  // Only an SQLite store is a file of the gateway's; a PostgreSQL database's files are the server's.
  if (STORE_KIND === "sqlite") {
    const mode = statSync(join(w.dir, "switchboard.sqlite")).mode & 0o777;
    assert.equal(mode & 0o077, 0, `the store is ${mode.toString(8)}: readable by others`);
  }
});
