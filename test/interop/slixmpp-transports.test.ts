// slixmpp, a client that is not ours, uses each real transport end to end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simpleParser } from "mailparser";
import { PASSWORD } from "../support/harness.js";
import { emailJid, lmtpDeliver, personalAccount, startWorld, EMAIL } from "../email/world.js";
import { phoneJid, startSmsHarness, SMS } from "../sms/sms-harness.js";
import { runSlixmpp } from "./slixmpp-run.js";

test("with slixmpp: register a mailbox, write to an address, get the answer by mail as a chat", async () => {
  const world = await startWorld({ mailboxes: ["juliet@example.test", "romeo@montague.net"] });
  try {
    const run = runSlixmpp({
      jid: "juliet@example.test",
      password: PASSWORD,
      port: world.h.server.c2sPort,
      gateway: EMAIL,
      contact: emailJid("romeo@montague.net"),
      fields: personalAccount(world, "juliet@example.test"),
    });
    const mail = await world.relay.waitForMail(1, 20_000);
    const parsed = await simpleParser(mail.raw);
    assert.equal(parsed.text?.trim(), "Hello from slixmpp");
    assert.deepEqual(mail.to, ["romeo@montague.net"]);
    await lmtpDeliver(
      world,
      "romeo@montague.net",
      "juliet@example.test",
      `From: Romeo <romeo@montague.net>\nTo: juliet@example.test\nSubject: Re: hello\nMessage-ID: <slix-answer@montague.net>\nIn-Reply-To: ${parsed.messageId}\n\nHello, slixmpp user\n`,
    );
    const { code, stderr } = await run.exited;
    assert.equal(code, 0, stderr);
    assert.equal(run.steps.find((step) => step.step === "disco")?.type, "smtp");
    assert.equal(run.steps.find((step) => step.step === "registered")?.type, "result");
    const received = run.steps.find((step) => step.step === "received");
    assert.equal(received?.sender, emailJid("romeo@montague.net"));
    assert.match(String(received?.body), /Hello, slixmpp user/);
  } finally {
    await world.stop();
  }
});

test("with slixmpp: take an operator number, text a phone, get the reply as a chat", async () => {
  const s = await startSmsHarness();
  try {
    const run = runSlixmpp({
      jid: "juliet@example.test",
      password: PASSWORD,
      port: s.h.server.c2sPort,
      gateway: SMS,
      contact: phoneJid("+14155550123"),
      fields: { number: s.numbers[0]! },
    });
    const [text] = await s.twilio.waitForMessages(1, 20_000);
    assert.equal(text!.body, "Hello from slixmpp");
    assert.equal(text!.to, "+14155550123");
    assert.equal(text!.from, s.numbers[0]);
    const reply = await s.twilio.sendInbound({ accountSid: s.operator.sid, from: "+14155550123", to: s.numbers[0]!, body: "Hello, slixmpp user" });
    assert.equal(reply.status, 200);
    const { code, stderr } = await run.exited;
    assert.equal(code, 0, stderr);
    assert.equal(run.steps.find((step) => step.step === "disco")?.type, "sms");
    assert.deepEqual(
      run.steps.find((step) => step.step === "received"),
      { step: "received", sender: phoneJid("+14155550123"), body: "Hello, slixmpp user" },
    );
  } finally {
    await s.stop();
  }
});
