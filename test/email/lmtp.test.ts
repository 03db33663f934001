// Hosted domain over LMTP: the operator's mail server hands each mail straight to the gateway,
// and each recipient gets its own answer: 250 once the chat message is stored, 550 for an
// address nobody holds. Hostile mail gets a clear answer and the gateway stays up.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestClient } from "../support/xmpp-client.js";
import { joinHosted, lmtpSend, mailText, MAIL_DOMAIN, RawLmtp, sayToEmail, startLmtpWorld, TYBALT, type LmtpWorld } from "./lmtp-world.js";
import { emailJid, waitForChat } from "./world.js";

const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
const JULIET = `juliet@${MAIL_DOMAIN}`;
const ROMEO = `romeo@${MAIL_DOMAIN}`;

let world: LmtpWorld;
let juliet: TestClient;
let romeo: TestClient;

before(async () => {
  world = await startLmtpWorld({ email: { maxMessageBytes: MAX_MESSAGE_BYTES } });
  juliet = await world.h.login("juliet");
  romeo = await world.h.login("romeo");
  await joinHosted(juliet, "juliet");
  await joinHosted(romeo, "romeo");
});
after(async () => {
  await world?.stop();
});

const linkOnline = (): boolean => world.h.gateway.services.every((service) => service.link.state === "online");

/** A plain mail still gets through: the listener and the link are up. */
async function stillServing(marker: string): Promise<void> {
  const info = await lmtpSend(world.lmtpPort, TYBALT, [JULIET], mailText({ From: TYBALT, To: JULIET, Subject: "marker" }, marker));
  assert.deepEqual(info.accepted, [JULIET]);
  await waitForChat(juliet, TYBALT, (body) => body === marker);
  assert.ok(linkOnline(), "the component link stayed online");
}

test("a mail handed over by LMTP to a hosted address reaches its user's Jabber client as a chat", async () => {
  const info = await lmtpSend(
    world.lmtpPort,
    TYBALT,
    [JULIET],
    mailText({ From: `Tybalt <${TYBALT}>`, To: JULIET, Subject: "A challenge", "Message-ID": "<lmtp-1@capulet.test>" }, "Thou art a villain."),
  );
  assert.deepEqual(info.accepted, [JULIET]);
  assert.match(info.response, /^250 2\.1\.5 /);
  const message = await waitForChat(juliet, TYBALT);
  assert.equal(message.getChildText("body"), "Thou art a villain.");
  assert.equal(message.getChildText("subject"), "A challenge");
  assert.equal(message.getChild("nick", "http://jabber.org/protocol/nick")?.text(), "Tybalt");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(romeo.messages(emailJid(TYBALT)).length, 0, "Romeo got Juliet's mail");
});

test("in one transaction an address nobody holds gets 550 5.1.1 while the known recipients get 250 and their chats", async () => {
  const nobody = `mercutio@${MAIL_DOMAIN}`;
  const info = await lmtpSend(
    world.lmtpPort,
    TYBALT,
    [JULIET, nobody, ROMEO],
    mailText({ From: TYBALT, To: "undisclosed-recipients:;", Subject: "All of you", "Message-ID": "<lmtp-2@capulet.test>" }, "To all three"),
  );
  assert.deepEqual(info.accepted, [JULIET, ROMEO]);
  assert.deepEqual(info.rejected, [nobody]);
  const refusal = info.rejectedErrors?.[0] as (Error & { responseCode?: number; response?: string }) | undefined;
  assert.equal(refusal?.responseCode, 550);
  assert.match(refusal?.response ?? "", /^550 5\.1\.1 No user of this gateway holds this address/);
  await waitForChat(juliet, TYBALT, (body) => body === "To all three");
  await waitForChat(romeo, TYBALT, (body) => body === "To all three");

  // The same over a raw connection: the refusal at RCPT, then one reply per accepted recipient.
  const { client, greeting } = await RawLmtp.open(world.lmtpPort);
  try {
    assert.match(greeting, /^220 mail\.example\.test LMTP/);
    assert.match(await client.command("LHLO mta.example.test"), /^250 /);
    const result = await client.transaction(
      TYBALT,
      [JULIET, "postmaster@mail.example.test", "someone@elsewhere.test", ROMEO],
      mailText({ From: TYBALT }, "raw"),
    );
    assert.deepEqual(
      result.rcpt.map((reply) => reply.slice(0, 9)),
      ["250 Accep", "550 5.1.1", "550 5.1.1", "250 Accep"],
    );
    assert.equal(result.replies.length, 2);
    for (const reply of result.replies) assert.match(reply, /^250 2\.1\.5 Stored/);
  } finally {
    client.close();
  }
});

test("a mail the mail server hands over again (same Message-ID) reaches the chat once", async () => {
  const raw = mailText({ From: TYBALT, To: JULIET, Subject: "again", "Message-ID": "<lmtp-3@capulet.test>" }, "Only once, please");
  const first = await lmtpSend(world.lmtpPort, TYBALT, [JULIET], raw);
  const second = await lmtpSend(world.lmtpPort, TYBALT, [JULIET], raw);
  assert.match(first.response, /^250 2\.1\.5 Stored/);
  assert.match(second.response, /^250 2\.1\.5 Delivered before/);
  await waitForChat(juliet, TYBALT, (body) => body === "Only once, please");
  await stillServing("after the repeated mail");
  assert.equal(juliet.messages(emailJid(TYBALT)).filter((stanza) => stanza.getChildText("body") === "Only once, please").length, 0);
});

test("each recipient gets its own answer after DATA: Romeo's policy refuses a stranger (550 5.7.1) while Juliet's copy is stored", async () => {
  assert.match(await sayToEmail(romeo, "set spam=known"), /only from addresses I have written to/);
  try {
    const { client } = await RawLmtp.open(world.lmtpPort);
    try {
      await client.command("LHLO mta.example.test");
      const result = await client.transaction(
        TYBALT,
        [JULIET, ROMEO],
        mailText({ From: TYBALT, "Message-ID": "<lmtp-4@capulet.test>" }, "For the open-minded"),
      );
      assert.deepEqual(
        result.rcpt.map((reply) => reply.slice(0, 3)),
        ["250", "250"],
      );
      assert.match(result.replies[0]!, /^250 2\.1\.5 /);
      assert.match(result.replies[1]!, /^550 5\.7\.1 The recipient takes mail only from addresses they have written to/);
    } finally {
      client.close();
    }
    await waitForChat(juliet, TYBALT, (body) => body === "For the open-minded");
  } finally {
    await sayToEmail(romeo, "set spam=all");
  }
});

test("the envelope sender stands in for a missing From; a mail with neither is refused with a reason", async () => {
  await lmtpSend(world.lmtpPort, TYBALT, [JULIET], mailText({ To: JULIET, Subject: "no from" }, "Who wrote this?"));
  await waitForChat(juliet, TYBALT, (body) => body === "Who wrote this?");

  const { client } = await RawLmtp.open(world.lmtpPort);
  try {
    await client.command("LHLO mta.example.test");
    const anonymous = await client.transaction("", [JULIET], mailText({ To: JULIET, Subject: "anonymous" }, "nobody wrote this"));
    assert.match(anonymous.replies[0]!, /^550 5\.1\.7 /);
  } finally {
    client.close();
  }
  await stillServing("after the refused one");
});

test("a mail the operator's filter marked as spam is taken with 250 (no bounce to a forged sender) and never reaches the chat", async () => {
  const { client } = await RawLmtp.open(world.lmtpPort);
  try {
    await client.command("LHLO mta.example.test");
    const spam = await client.transaction(
      "winner@lottery.test",
      [JULIET, ROMEO],
      mailText({ From: "winner@lottery.test", "X-Spam-Flag": "YES", "Message-ID": "<lmtp-spam@lottery.test>" }, "cheap pills"),
    );
    assert.deepEqual(
      spam.replies.map((reply) => reply.slice(0, 9)),
      ["250 2.1.5", "250 2.1.5"],
    );
    assert.match(spam.replies[0]!, /marked as spam/i);
  } finally {
    client.close();
  }
  // The marker, sent afterwards, arrives: had the spam been forwarded it would have come first.
  await stillServing("after the spam");
  await lmtpSend(world.lmtpPort, TYBALT, [ROMEO], mailText({ From: TYBALT, To: ROMEO }, "Romeo's marker after the spam"));
  await waitForChat(romeo, TYBALT, (body) => body === "Romeo's marker after the spam");
  for (const user of [juliet, romeo]) {
    assert.equal(user.messages().filter((stanza) => stanza.getChildText("body") === "cheap pills").length, 0, "the spam reached a chat");
  }
});

test("a recipient named twice (in another case) gets a reply for each RCPT, in order, and the mail reaches the chat once", async () => {
  const twice = "Juliet@Mail.Example.Test";
  const { client } = await RawLmtp.open(world.lmtpPort);
  try {
    await client.command("LHLO mta.example.test");
    const result = await client.transaction(
      TYBALT,
      [JULIET, `mercutio@${MAIL_DOMAIN}`, ROMEO, twice],
      mailText({ From: TYBALT, To: "undisclosed-recipients:;", "Message-ID": "<lmtp-twice@capulet.test>" }, "Said twice, sent once"),
    );
    assert.deepEqual(
      result.rcpt.map((reply) => reply.slice(0, 3)),
      ["250", "550", "250", "250"],
    );
    // Postfix waits for one reply per 250 at RCPT: a missing one would leave it waiting, then defer.
    assert.deepEqual(
      result.replies.map((reply) => reply.slice(0, 9)),
      ["250 2.1.5", "250 2.1.5", "250 2.1.5"],
    );
    assert.match(await client.command("NOOP"), /^250/, "the reply to NOOP is NOOP's, not a late one for the mail");

    // The replies follow the RCPTs' order: Romeo, who takes mail only from people he wrote to, is second.
    assert.match(await sayToEmail(romeo, "set spam=known"), /only from addresses I have written to/);
    try {
      const ordered = await client.transaction(
        TYBALT,
        [twice, ROMEO, JULIET],
        mailText({ From: TYBALT, To: "undisclosed-recipients:;", "Message-ID": "<lmtp-twice-2@capulet.test>" }, "Said twice again"),
      );
      assert.deepEqual(
        ordered.replies.map((reply) => reply.slice(0, 9)),
        ["250 2.1.5", "550 5.7.1", "250 2.1.5"],
      );
    } finally {
      await sayToEmail(romeo, "set spam=all");
    }
  } finally {
    client.close();
  }
  await waitForChat(juliet, TYBALT, (body) => body === "Said twice, sent once");
  await waitForChat(romeo, TYBALT, (body) => body === "Said twice, sent once");
  await waitForChat(juliet, TYBALT, (body) => body === "Said twice again");
  await stillServing("after the repeated recipient");
  for (const body of ["Said twice, sent once", "Said twice again"]) {
    assert.equal(juliet.messages().filter((stanza) => stanza.getChildText("body") === body).length, 0, `a second copy of "${body}"`);
  }
});

test("hostile mail gets a clear answer and the link stays up: broken MIME, a 1 MB header line, NUL bytes, an oversized mail", async () => {
  const { client } = await RawLmtp.open(world.lmtpPort);
  try {
    await client.command("LHLO mta.example.test");
    // A multipart whose boundary never closes, a part with broken base64 and a bogus charset.
    const brokenMime = [
      `From: ${TYBALT}`,
      "Subject: =?x-bogus?B?!!!?=",
      'Content-Type: multipart/mixed; boundary="never-closed"',
      "",
      "--never-closed",
      "Content-Type: text/plain; charset=no-such-charset",
      "Content-Transfer-Encoding: base64",
      "",
      "This is not base64 at all %%%",
      "--never-closed",
      'Content-Type: application/octet-stream; name="x\0y.bin"',
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "=ZZ=",
      "",
    ].join("\r\n");
    const broken = await client.transaction(TYBALT, [JULIET], brokenMime);
    assert.match(broken.replies[0]!, /^(250 2\.1\.5|554 5\.6\.0) /);

    const longHeader = `From: ${TYBALT}\r\nX-Long: ${"a".repeat(1024 * 1024)}\r\nSubject: long header\r\n\r\nAfter a long header\r\n`;
    const long = await client.transaction(TYBALT, [JULIET], longHeader);
    assert.match(long.replies[0]!, /^554 5\.6\.0 The mail could not be read as MIME: Max header size/);

    const nul = await client.transaction(TYBALT, [JULIET], Buffer.from(`From: ${TYBALT}\r\nSubject: nul\0bytes\r\n\r\nNUL\0in\0the\0body\r\n`, "latin1"));
    assert.match(nul.replies[0]!, /^250 2\.1\.5 /);

    const huge = await client.transaction(TYBALT, [JULIET, ROMEO], `From: ${TYBALT}\r\n\r\n${"x".repeat(999)}\r\n`.repeat(3 * 1024));
    assert.deepEqual(
      huge.replies.map((reply) => reply.slice(0, 9)),
      ["552 5.3.4", "552 5.3.4"],
    );
    assert.match(huge.replies[0]!, new RegExp(`larger than this gateway takes \\(${MAX_MESSAGE_BYTES} bytes\\)`));
    // The same connection goes on.
    assert.match(await client.command("NOOP"), /^250/);
  } finally {
    client.close();
  }
  await waitForChat(juliet, TYBALT, (body) => body.startsWith("NUL"));
  await stillServing("after the hostile mail");
});

test("odd addresses and junk commands get an error reply each, and the connection and the gateway stay up", async () => {
  const { client } = await RawLmtp.open(world.lmtpPort);
  try {
    assert.match(await client.command("HELO mta.example.test"), /^500 /);
    assert.match(await client.command("LHLO mta.example.test"), /^250 /);
    assert.match(await client.command("MAIL FROM:<tybalt@capulet.test>"), /^250 /);
    for (const odd of [
      'RCPT TO:<"juliet capulet"@mail.example.test>',
      `RCPT TO:<${"j".repeat(900)}@mail.example.test>`,
      "RCPT TO:<jüliet@mail.example.test>",
      "RCPT TO:<juliet@mail.example.test",
      "RCPT TO:<>",
      "RCPT TO:juliet",
      "RCPT TO:<juliet@mail..example.test>",
    ]) {
      assert.match(await client.command(odd), /^5\d\d /, odd);
    }
    assert.match(await client.command("\u0001\u0002\u00ff garbage"), /^5\d\d /);
    // A command line past 16 KB ends the session, with a reply that says why.
    assert.match(await client.command(`NOOP ${"z".repeat(64 * 1024)}`), /^421 .*too long/);
  } finally {
    client.close();
  }
  await stillServing("after the odd addresses");
});

test("10,000 recipients in one transaction: each is answered, the one user among them gets the mail once", async () => {
  const recipients = [JULIET, ...Array.from({ length: 9_999 }, (_, index) => `stranger${index}@${MAIL_DOMAIN}`)];
  const info = await lmtpSend(
    world.lmtpPort,
    TYBALT,
    recipients,
    mailText({ From: TYBALT, To: "undisclosed-recipients:;", Subject: "Crowd", "Message-ID": "<lmtp-crowd@capulet.test>" }, "A crowd"),
  );
  assert.deepEqual(info.accepted, [JULIET]);
  assert.equal(info.rejected.length, 9_999);
  await waitForChat(juliet, TYBALT, (body) => body === "A crowd");
  await stillServing("after the crowd");
});

test("a delivery report about a mail the gateway sent is taken with 250 and not shown as a chat", async () => {
  const report = [
    "From: Mail Delivery System <MAILER-DAEMON@capulet.test>",
    `To: ${JULIET}`,
    "Subject: Undelivered Mail Returned to Sender",
    "Message-ID: <dsn-1@capulet.test>",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "Your mail could not be delivered.",
    "--b",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.capulet.test",
    "",
    "Final-Recipient: rfc822; tybalt@capulet.test",
    "Action: failed",
    "Status: 5.1.1",
    "Diagnostic-Code: smtp; 550 5.1.1 no such user",
    "",
    "--b",
    "Content-Type: text/rfc822-headers",
    "",
    "Message-ID: <sent-by-the-gateway@email.example.test>",
    `From: ${JULIET}`,
    "",
    "--b--",
    "",
  ].join("\r\n");
  const info = await lmtpSend(world.lmtpPort, "", [JULIET], report);
  assert.match(info.response, /^250 2\.1\.5 Delivery report taken/);
  await stillServing("after the report");
  assert.equal(juliet.messages().filter((stanza) => /could not be delivered/.test(stanza.getChildText("body") ?? "")).length, 0);
});

test("a mail to a user and two other people becomes a group chat, as through the catch-all: the user is invited", async () => {
  const info = await lmtpSend(
    world.lmtpPort,
    TYBALT,
    [JULIET],
    mailText(
      {
        From: `Tybalt <${TYBALT}>`,
        To: `Juliet <${JULIET}>, Nurse <nurse@capulet.test>`,
        Cc: "Lady Capulet <lady@capulet.test>",
        Subject: "The feast",
        "Message-ID": "<lmtp-group@capulet.test>",
      },
      "Who is that Montague?",
    ),
  );
  assert.deepEqual(info.accepted, [JULIET]);
  const invitation = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.getChild("x", "jabber:x:conference") !== undefined, 15_000);
  assert.match(invitation.getChild("x", "jabber:x:conference")?.attrs.jid ?? "", /^thread-[a-z2-7]+@email\.example\.test$/);
  await stillServing("after the group mail");
});
