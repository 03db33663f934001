// A real Postfix in front of the gateway's LMTP listener, set up as docs/email.md tells operators
// (virtual_mailbox_domains + virtual_transport = lmtp:inet:…): mail submitted to Postfix reaches the
// chat; while the gateway is down Postfix keeps it and delivers it once the listener is back; mail
// for an address nobody holds is bounced by Postfix to its sender.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { simpleParser, type ParsedMail } from "mailparser";
import nodemailer from "nodemailer";
import { SMTPServer } from "smtp-server";
import { freePort } from "../../src/trial/ports.js";
import { LocalPostfix } from "../support/postfix.js";
import type { TestClient } from "../support/xmpp-client.js";
import { joinHosted, mailText, MAIL_DOMAIN, startLmtpWorld, TYBALT, type LmtpWorld } from "./lmtp-world.js";
import { emailJid, eventually, waitForChat } from "./world.js";

const JULIET = `juliet@${MAIL_DOMAIN}`;

/** Where Postfix sends everything that is not for the hosted domain: the bounces, here. */
const sunk: Array<{ to: string[]; mail: ParsedMail }> = [];
let sink: SMTPServer;
let postfix: LocalPostfix;
let world: LmtpWorld;
let juliet: TestClient;

before(async () => {
  const sinkPort = await freePort();
  sink = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          sunk.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), mail });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => sink.listen(sinkPort, "127.0.0.1", resolve));
  const lmtpPort = await freePort();
  postfix = new LocalPostfix({ virtualDomain: MAIL_DOMAIN, lmtp: `inet:127.0.0.1:${lmtpPort}`, relayPort: sinkPort });
  await postfix.start();
  world = await startLmtpWorld({ lmtpPort });
  juliet = await world.h.login("juliet");
  await joinHosted(juliet, "juliet");
});
after(async () => {
  await world?.stop();
  await postfix?.destroy();
  await new Promise<void>((resolve) => (sink ? sink.close(() => resolve()) : resolve()));
});

/** Submits a mail to Postfix over SMTP, as a sender's server on the Internet would. */
async function submit(to: string[], raw: string): Promise<void> {
  const smtp = nodemailer.createTransport({ host: "127.0.0.1", port: postfix.smtpPort, secure: false, ignoreTLS: true });
  try {
    await smtp.sendMail({ envelope: { from: TYBALT, to }, raw });
  } finally {
    smtp.close();
  }
}

test("a mail submitted to Postfix over SMTP reaches the Jabber client through the LMTP listener", async () => {
  await submit([JULIET], mailText({ From: `Tybalt <${TYBALT}>`, To: JULIET, Subject: "Via Postfix", "Message-ID": "<pf-1@capulet.test>" }, "Through the MTA"));
  const message = await waitForChat(juliet, TYBALT, (body) => body === "Through the MTA", 20_000);
  assert.equal(message.getChildText("subject"), "Via Postfix");
  const line = await eventually(async () => postfix.log().match(/to=<juliet@mail\.example\.test>.*status=sent.*/)?.[0], "Postfix's delivery log line");
  assert.match(line, /relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+.*250 2\.1\.5 Stored/);
});

test("while the gateway is down Postfix keeps the mail in its queue, and delivers it once the listener is back", async () => {
  await world.h.stopGateway();
  try {
    await submit([JULIET], mailText({ From: TYBALT, To: JULIET, Subject: "Queued", "Message-ID": "<pf-2@capulet.test>" }, "Kept by Postfix"));
    // The reason is "Connection refused", or first "lost connection" when Postfix tried the LMTP
    // session it had kept open from the mail before: either way it names the listener's address.
    const queued = await eventually(
      async () =>
        (await postfix.queue()).find(
          (entry) => entry.queue_name === "deferred" && entry.recipients.some((recipient) => recipient.address === JULIET && recipient.delay_reason),
        ),
      "the mail deferred in Postfix's queue",
      30_000,
    );
    assert.match(queued.recipients[0]?.delay_reason ?? "", /127\.0\.0\.1/);
  } finally {
    await world.h.startGateway();
  }
  await postfix.flush();
  await waitForChat(juliet, TYBALT, (body) => body === "Kept by Postfix", 20_000);
  await eventually(async () => (await postfix.queue()).length === 0, "Postfix's queue to empty");
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(juliet.messages(emailJid(TYBALT)).filter((stanza) => stanza.getChildText("body") === "Kept by Postfix").length, 0, "delivered twice");
});

test("a mail to a hosted address nobody holds is bounced by Postfix to its sender, naming the address and 5.1.1", async () => {
  await submit(
    [`mercutio@${MAIL_DOMAIN}`],
    mailText({ From: TYBALT, To: `mercutio@${MAIL_DOMAIN}`, Subject: "Anyone?", "Message-ID": "<pf-3@capulet.test>" }, "Hello?"),
  );
  const bounce = await eventually(async () => sunk.find((entry) => entry.to.includes(TYBALT)), "the bounce at the sender's server", 20_000);
  const report = bounce.mail.attachments.find((part) => part.contentType === "message/delivery-status")?.content.toString("utf8") ?? bounce.mail.text ?? "";
  assert.match(report, /mercutio@mail\.example\.test/);
  assert.match(report, /5\.1\.1/);
  assert.match(postfix.log(), /to=<mercutio@mail\.example\.test>.*status=bounced.*5\.1\.1 No user of this gateway holds this address/);
});

test("with recipient verification on, Postfix asks the listener while the sender waits and refuses an unknown address itself (no bounce)", async () => {
  // The settings docs/email.md suggests: the verify probe stops after RCPT, which the listener answers.
  await postfix.configure({
    smtpd_recipient_restrictions: "reject_unauth_destination, reject_unverified_recipient",
    unverified_recipient_reject_code: "550",
  });
  const bounces = sunk.length;
  const smtp = nodemailer.createTransport({ host: "127.0.0.1", port: postfix.smtpPort, secure: false, ignoreTLS: true });
  try {
    const info = await eventually(
      async () => {
        const sent = await smtp.sendMail({
          envelope: { from: TYBALT, to: [JULIET, `benvolio@${MAIL_DOMAIN}`] },
          raw: mailText({ From: TYBALT, To: JULIET, Subject: "Verified", "Message-ID": "<pf-4@capulet.test>" }, "Verified first"),
        });
        // The first probe may still be under way (450): the sender's server would try again.
        return sent.rejectedErrors?.some((error) => (error as { responseCode?: number }).responseCode === 450) ? undefined : sent;
      },
      "the verification result",
      20_000,
    );
    assert.deepEqual(info.accepted, [JULIET]);
    const refusal = info.rejectedErrors?.[0] as { responseCode?: number; response?: string } | undefined;
    assert.equal(refusal?.responseCode, 550);
    assert.match(refusal?.response ?? "", /benvolio@mail\.example\.test.*undeliverable address.*5\.1\.1 No user of this gateway holds this address/);
  } finally {
    smtp.close();
  }
  await waitForChat(juliet, TYBALT, (body) => body === "Verified first", 20_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(sunk.length, bounces, "Postfix sent a bounce");
});
