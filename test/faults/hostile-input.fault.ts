// Hostile input through the gateway running as its own process: generated webhooks and mails
// that are malformed, forged, huge or odd. Each is answered (HTTP 4xx, a logged rejection) or
// handed on cleaned; the gateway never crashes or drops its XMPP link, and valid messages in
// flight are not lost.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import nodemailer from "nodemailer";
import twilio from "twilio";
import type { TestClient } from "../support/xmpp-client.js";
import { bodies } from "./flow.js";
import { until } from "../support/wait.js";
import { record, tally } from "./ledger.js";
import { emailJid, mailAddress, NUMBER, phoneJid, startWorld, type World } from "./world.js";

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
  const health = await fetch(`http://127.0.0.1:${w.gateway.httpPort}/healthz`).then((response) => response.json() as Promise<{ status: string }>, () => undefined);
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
  const base = (i: number): Record<string, string> => ({ MessageSid: `SM${(0x900000 + i).toString(16).padStart(32, "0")}`, AccountSid: w.operator.sid, From: ROMEO_PHONE, To: NUMBER, Body: `hostile ${i}`, NumMedia: "0" });
  const cases: WebhookCase[] = [];
  const refused = (status: number) => status >= 400 && status < 500;
  let i = 0;
  for (const sign of ["forged", "other-url", "none"] as const) for (let k = 0; k < 10; k += 1) cases.push({ name: `signature ${sign} ${k}`, params: base(i++), sign, expect: (status) => status === 403 });
  for (const field of ["MessageSid", "AccountSid", "From", "To"]) {
    const params = base(i++);
    delete params[field];
    cases.push({ name: `missing ${field}`, params, sign: "valid", expect: refused });
  }
  for (const [field, value] of [["From", "not a number"], ["From", "+1".padEnd(40, "9")], ["To", "+19999999999"], ["NumMedia", "3"], ["NumMedia", "-1"], ["NumMedia", "many"], ["Body", "\u0000\u0001\u0007 control \uFFFE characters"], ["Body", "x".repeat(5000)], ["MessageSid", "../../etc/passwd"], ["AccountSid", "AC" + "0".repeat(32)]] as const) {
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
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "content-length": "100000" } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
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
    ...valid.map(async (body, i) => ({ testCase: { name: body, expect: (status: number) => status === 200 } as WebhookCase, status: (await w.twilio.sendInbound({ accountSid: w.operator.sid, from: ROMEO_PHONE, to: NUMBER, body, messageSid: `SM${(0xa00000 + i).toString(16).padStart(32, "0")}`, url: w.incomingUrl })).status })),
  ]);
  const slow = await slowClient();
  const wrong = results.filter(({ testCase, status }) => !testCase.expect(status)).map(({ testCase, status }) => `${testCase.name}: ${status}`);
  assert.deepEqual(wrong, []);
  assert.notEqual(slow, 200, "a body that never finishes is not accepted");
  await until(() => valid.every((body) => bodies(juliet, from).includes(body)), 30_000);
  const row = tally(`${cases.length + 1} hostile webhooks among 20 valid texts (SMS → XMPP)`, valid, bodies(juliet, from).filter((body) => body.startsWith("valid text")), {
    note: `each hostile one answered 4xx or handled; the gateway stayed up (${(await healthy()) ? "link online" : "LINK DOWN"})`,
  });
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
  assert.ok(await healthy());
  assert.ok(w.gateway.running, "the gateway process is still the one that was started");
});

function hostileMails(): Array<{ name: string; raw: Buffer }> {
  const from = mailAddress("romeo");
  const to = mailAddress("juliet");
  const header = (extra = ""): string => `From: Romeo <${from}>\r\nTo: ${to}\r\nSubject: hostile\r\nMessage-ID: <h-${Math.random().toString(36).slice(2)}@mail.example.test>\r\nDate: Tue, 24 Nov 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n${extra}`;
  const mails: Array<{ name: string; raw: Buffer }> = [];
  const add = (name: string, raw: string | Buffer) => mails.push({ name, raw: typeof raw === "string" ? Buffer.from(raw, "latin1") : raw });
  add("invalid UTF-8", Buffer.concat([Buffer.from(header("Content-Type: text/plain; charset=utf-8\r\n") + "\r\n"), Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0x0d, 0x0a])]));
  for (const charset of ["x-klingon", "utf-7", "iso-2022-jp", "windows-1258", "", "utf-16", "ebcdic-cp-us"]) add(`charset "${charset}"`, `${header(`Content-Type: text/plain; charset="${charset}"\r\n`)}\r\ncaf\xe9 na\xefve\r\n`);
  add("NUL and control characters", `${header()}\r\nnul\u0000 bell\u0007 esc\u001b form\u000c feed\r\n`);
  add("10 MB body", `${header()}\r\n${"0123456789abcdef".repeat(655_360)}\r\n`);
  add("thousands of recipients", header().replace(`To: ${to}`, `To: ${Array.from({ length: 3000 }, (_, i) => `r${i}@example.org`).join(",\r\n ")}`) + "\r\nmany recipients\r\n");
  let nested = "deep leaf\r\n";
  for (let depth = 0; depth < 60; depth += 1) nested = `--b${depth}\r\nContent-Type: multipart/mixed; boundary="b${depth - 1}"\r\n\r\n${nested}\r\n--b${depth}--\r\n`;
  add("60-deep nested multiparts", `${header('Content-Type: multipart/mixed; boundary="b59"\r\n')}\r\n${nested}`);
  add("missing From", header().replace(/^From:.*\r\n/, "") + "\r\nno sender\r\n");
  add("empty From", header().replace(/^From:.*\r\n/, "From: \r\n") + "\r\nempty sender\r\n");
  add("From that is not an address", header().replace(/^From:.*\r\n/, "From: <<<@@@>>>\r\n") + "\r\nbad sender\r\n");
  add("header injection in the display name", header().replace(/^From:.*\r\n/, `From: "Romeo\\r\\nBcc: everyone@example.org" <${from}>\r\n`) + "\r\ninjected\r\n");
  add("encoded-word injection", header().replace("Subject: hostile", "Subject: =?utf-8?B?" + Buffer.from("Hi\r\nBcc: x@example.org\u0000").toString("base64") + "?=") + "\r\nencoded\r\n");
  add("HTML with scripts and tracking pixels", `${header("Content-Type: text/html; charset=utf-8\r\n")}\r\n<html><script>alert(1)</script><body onload=x()>Hello<img src="https://track.example/p.gif" width=1 height=1><iframe src="javascript:x"></iframe></body></html>\r\n`);
  add("zero-length attachment", `${header('Content-Type: multipart/mixed; boundary="z"\r\n')}\r\n--z\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--z\r\nContent-Type: application/octet-stream; name="empty.bin"\r\nContent-Disposition: attachment; filename="empty.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\n--z--\r\n`);
  add("5 MB attachment", `${header('Content-Type: multipart/mixed; boundary="z"\r\n')}\r\n--z\r\nContent-Type: text/plain\r\n\r\nbig file\r\n--z\r\nContent-Type: application/octet-stream; name="big.bin"\r\nContent-Disposition: attachment; filename="../../etc/big.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(5 * 1024 * 1024, 7).toString("base64").replace(/.{76}/g, "$&\r\n")}\r\n--z--\r\n`);
  add("broken boundary", `${header('Content-Type: multipart/mixed; boundary="nope"\r\n')}\r\n--other\r\nContent-Type: text/plain\r\n\r\nlost part\r\n`);
  add("base64 garbage", `${header("Content-Transfer-Encoding: base64\r\n")}\r\n!!!not base64 at all$$$\r\n`);
  add("quoted-printable garbage", `${header("Content-Transfer-Encoding: quoted-printable\r\n")}\r\n=ZZ=\r\n=0=1=\r\n`);
  add("no body at all", header());
  add("very long header line", header(`X-Long: ${"x".repeat(200_000)}\r\n`) + "\r\nlong header\r\n");
  add("Date in the year 9999", header().replace(/^Date:.*$/m, "Date: Fri, 31 Dec 9999 23:59:59 +0000") + "\r\nfuture\r\n");
  add("Date that is not a date", header().replace(/^Date:.*$/m, "Date: yesterday-ish") + "\r\nno date\r\n");
  add("References loop", header("References: <a@x> <a@x> <a@x>\r\nIn-Reply-To: <a@x>\r\n") + "\r\nloop\r\n");
  for (let k = 0; k < 60; k += 1) {
    const bytes = Buffer.from(Array.from({ length: 300 + k * 11 }, (_, n) => (n * 197 + k * 31) % 256));
    add(`random body bytes ${k}`, Buffer.concat([Buffer.from(`${header()}\r\n`), bytes]));
  }
  return mails;
}

test("hostile mails are handed on cleaned or left with a logged reason; mail after them still arrives; the gateway stays up", async () => {
  const mails = hostileMails();
  const lmtp = nodemailer.createTransport({ host: "127.0.0.1", port: w.dovecot.lmtpPort, lmtp: true, secure: false, ignoreTLS: true, pool: true, maxConnections: 2 });
  const valid = Array.from({ length: 20 }, (_, i) => `valid mail ${i}`);
  const romeo = mailAddress("romeo");
  for (const [i, mail] of mails.entries()) {
    await lmtp.sendMail({ envelope: { from: romeo, to: [mailAddress("juliet")] }, raw: mail.raw });
    if (i % 5 === 0) await lmtp.sendMail({ envelope: { from: romeo, to: [mailAddress("juliet")] }, from: romeo, to: mailAddress("juliet"), subject: "valid", text: valid[i / 5]!, messageId: `<valid-${i}@mail.example.test>` });
  }
  for (let i = Math.ceil(mails.length / 5); i < valid.length; i += 1) {
    await lmtp.sendMail({ envelope: { from: romeo, to: [mailAddress("juliet")] }, from: romeo, to: mailAddress("juliet"), subject: "valid", text: valid[i]!, messageId: `<valid-late-${i}@mail.example.test>` });
  }
  lmtp.close();
  const fromRomeo = emailJid(romeo);
  await until(() => valid.every((body) => bodies(juliet, fromRomeo).includes(body)), 120_000);
  const row = tally(`${mails.length} hostile mails among 20 valid ones (IMAP → XMPP)`, valid, bodies(juliet, fromRomeo).filter((body) => body.startsWith("valid mail")), {
    note: `${juliet.received.filter((stanza) => stanza.name === "message" && stanza.attrs.from === fromRomeo).length - valid.length} hostile ones handed on cleaned, the rest left in the mailbox; the gateway stayed up`,
  });
  record(row);
  assert.equal(row.result, "pass", JSON.stringify(row));
  assert.ok(await healthy(), "the component links are still online");
  assert.ok(w.gateway.running, "the gateway process is still the one that was started");
  assert.equal(w.gateway.starts, 1);
});
