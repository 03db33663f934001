// Personal accounts: a Jabber user registers their own mailbox and mails people from their client.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { errorCondition, errorText, xml, type TestClient } from "../support/xmpp-client.js";
import {
  chat,
  emailJid,
  eventually,
  lmtpDeliver,
  personalAccount,
  readMailbox,
  registerEmail,
  startWorld,
  swaksDeliver,
  waitForChat,
  type World,
} from "./world.js";

const JULIET_MAIL = "juliet@capulet.test";
const ROMEO_MAIL = "romeo@montague.test";

let world: World;
let juliet: TestClient;

before(async () => {
  world = await startWorld({ mailboxes: [JULIET_MAIL, ROMEO_MAIL], email: () => ({ maxAttachmentBytes: 1_000 }) });
  juliet = await world.h.login("juliet");
});
after(async () => {
  await world?.stop();
});

test("a wrong mailbox password is refused at registration, naming the IMAP server that refused it", async () => {
  const reply = await registerEmail(juliet, personalAccount(world, JULIET_MAIL, { password: "not-the-password" }));
  assert.equal(reply.attrs.type, "error");
  assert.equal(errorCondition(reply), "not-authorized");
  assert.match(errorText(reply), new RegExp(`IMAP server 127\\.0\\.0\\.1:${world.dovecot.imapPort} refused the login`));
});

test("registering forwards only mail that arrives afterwards, never the old inbox", async () => {
  await lmtpDeliver(
    world,
    "nurse@capulet.test",
    JULIET_MAIL,
    "From: nurse@capulet.test\nTo: juliet@capulet.test\nSubject: old\nMessage-ID: <old-1@capulet.test>\n\nAn old mail\n",
  );
  const reply = await registerEmail(juliet, personalAccount(world, JULIET_MAIL, { name: "Juliet Capulet" }));
  assert.equal(reply.attrs.type, "result", reply.toString());
  await lmtpDeliver(
    world,
    "nurse@capulet.test",
    JULIET_MAIL,
    "From: Nurse <nurse@capulet.test>\nTo: juliet@capulet.test\nSubject: new\nMessage-ID: <new-1@capulet.test>\n\nA new mail\n",
  );
  const message = await waitForChat(juliet, "nurse@capulet.test");
  assert.equal(message.getChildText("body"), "A new mail");
  assert.equal(juliet.messages(emailJid("nurse@capulet.test")).length, 0, "the old mail was forwarded too");
});

let firstMessageId = "";
let romeoReplyStanzaId = "";

test("Juliet's chat message lands in Romeo's mailbox as a UTF-8 mail with her name, the subject and a Message-ID of the gateway", async () => {
  await juliet.send(chat(ROMEO_MAIL, "Wherefore art thou, Romeo? — ☀️", { subject: "Balcony", thread: "balcony-thread" }));
  const mails = await eventually(async () => {
    const found = await readMailbox(world, ROMEO_MAIL);
    return found.length > 0 && found;
  }, "the mail in Romeo's mailbox");
  const { mail, raw } = mails[0]!;
  assert.equal(mail.from?.value[0]?.address, JULIET_MAIL);
  assert.equal(mail.from?.value[0]?.name, "Juliet Capulet");
  assert.equal(mail.subject, "Balcony");
  assert.equal(mail.text?.trim(), "Wherefore art thou, Romeo? — ☀️");
  assert.match(raw.toString("latin1"), /Content-Type: text\/plain; charset=utf-8/i);
  assert.match(mail.messageId ?? "", /^<[^@]+@email\.example\.test>$/);
  assert.equal(world.relay.received.at(-1)?.authUser, JULIET_MAIL, "sent through Juliet's own SMTP account");
  firstMessageId = mail.messageId!;
});

test("Romeo's reply by mail reaches Juliet as a chat from his JID, in the same thread, without the quoted history", async () => {
  assert.ok(firstMessageId, "needs the previous test's mail");
  await lmtpDeliver(
    world,
    ROMEO_MAIL,
    JULIET_MAIL,
    [
      "From: Romeo Montague <romeo@montague.test>",
      "To: Juliet Capulet <juliet@capulet.test>",
      "Subject: Re: Balcony",
      "Message-ID: <reply-1@montague.test>",
      `In-Reply-To: ${firstMessageId}`,
      `References: ${firstMessageId}`,
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Here, below your window.",
      "",
      "On Monday, Juliet Capulet wrote:",
      "> Wherefore art thou, Romeo?",
      "",
      "-- ",
      "Romeo, of the house of Montague",
      "",
    ].join("\n"),
  );
  const message = await waitForChat(juliet, ROMEO_MAIL);
  romeoReplyStanzaId = message.attrs.id ?? "";
  assert.equal(message.getChildText("body"), "Here, below your window.");
  assert.equal(message.getChildText("thread"), "balcony-thread");
  assert.equal(message.getChildText("subject"), "Re: Balcony");
  assert.equal(message.getChildText("nick", "http://jabber.org/protocol/nick"), "Romeo Montague");
  // Once the XMPP server has it, the mail is marked read in Juliet's mailbox.
  await eventually(
    async () => (await readMailbox(world, JULIET_MAIL)).find((entry) => entry.mail.messageId === "<reply-1@montague.test>")?.flags.has("\\Seen"),
    "the reply flagged \\Seen",
  );
});

test("Juliet's answer continues Romeo's mail thread with In-Reply-To and References", async () => {
  await juliet.send(chat(ROMEO_MAIL, "Come up!", { thread: "balcony-thread" }));
  const mail = await eventually(
    async () => (await readMailbox(world, ROMEO_MAIL)).find((entry) => entry.mail.text?.includes("Come up!"))?.mail,
    "Juliet's answer in Romeo's mailbox",
  );
  assert.equal(mail.inReplyTo, "<reply-1@montague.test>");
  assert.deepEqual([mail.references].flat(), [firstMessageId, "<reply-1@montague.test>"]);
  assert.equal(mail.subject, "Re: Balcony");
});

test("a XEP-0461 reply to one of Romeo's chat messages answers exactly that mail, not the latest one", async () => {
  assert.ok(romeoReplyStanzaId, "needs Romeo's reply from an earlier test");
  await juliet.send(
    chat(ROMEO_MAIL, "About your first answer", { children: [xml("reply", { xmlns: "urn:xmpp:reply:0", id: romeoReplyStanzaId, to: emailJid(ROMEO_MAIL) })] }),
  );
  const mail = await eventually(
    async () => (await readMailbox(world, ROMEO_MAIL)).find((entry) => entry.mail.text?.includes("About your first answer"))?.mail,
    "the answer in Romeo's mailbox",
  );
  assert.equal(mail.inReplyTo, "<reply-1@montague.test>");
});

test("chat attachments go along as mail attachments up to the size cap, and as links above it", async () => {
  const small = Buffer.from("tiny potion recipe");
  const large = Buffer.alloc(4_000, 0x41);
  const server = createServer((request, response) => {
    const body = request.url === "/small.txt" ? small : large;
    response.writeHead(200, { "content-type": "text/plain", "content-length": String(body.length) });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const oob = (url: string) => xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, url));
    await juliet.send(chat(ROMEO_MAIL, "Two files", { children: [oob(`${base}/small.txt`), oob(`${base}/large.bin`)] }));
    const mail = await eventually(
      async () => (await readMailbox(world, ROMEO_MAIL)).find((entry) => entry.mail.text?.includes("Two files"))?.mail,
      "the mail with attachments",
    );
    assert.equal(mail.attachments.length, 1);
    assert.equal(mail.attachments[0]!.filename, "small.txt");
    assert.deepEqual(mail.attachments[0]!.content, small);
    assert.match(mail.text ?? "", new RegExp(`${base}/large\\.bin`), "the large file is linked in the text");
  } finally {
    server.close();
  }
});

test("an HTML-only mail arrives as readable text", async () => {
  await lmtpDeliver(
    world,
    "mercutio@verona.test",
    JULIET_MAIL,
    'From: mercutio@verona.test\nTo: juliet@capulet.test\nSubject: Queen Mab\nMessage-ID: <html-1@verona.test>\nContent-Type: text/html; charset=utf-8\n\n<html><head><style>p{color:red}</style></head><body><p>O, then, I see <b>Queen Mab</b> hath been with you.</p><p><a href="https://verona.test/mab">More</a></p><img src="https://tracker.test/pixel.gif"></body></html>\n',
  );
  const message = await waitForChat(juliet, "mercutio@verona.test");
  const body = message.getChildText("body") ?? "";
  assert.match(body, /O, then, I see Queen Mab hath been with you\./);
  assert.match(body, /More \[https:\/\/verona\.test\/mab\]/);
  assert.doesNotMatch(body, /<p>|color:red|pixel\.gif/);
});

test("a mail's attachment is offered as a link the gateway serves, byte for byte", async () => {
  const png = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
  await lmtpDeliver(
    world,
    "friar@verona.test",
    JULIET_MAIL,
    [
      "From: Friar Laurence <friar@verona.test>",
      "To: juliet@capulet.test",
      "Subject: The plan",
      "Message-ID: <attach-1@verona.test>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="XYZ"',
      "",
      "--XYZ",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Take this vial.",
      "--XYZ",
      "Content-Type: image/png",
      'Content-Disposition: attachment; filename="vial.png"',
      "Content-Transfer-Encoding: base64",
      "",
      png.toString("base64"),
      "--XYZ--",
      "",
    ].join("\n"),
  );
  const message = await waitForChat(juliet, "friar@verona.test");
  const url = message.getChild("x", "jabber:x:oob")?.getChildText("url") ?? "";
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/media\//);
  assert.match(message.getChildText("body") ?? "", /Take this vial\./);
  assert.ok((message.getChildText("body") ?? "").includes(url), "the URL is in the body for clients without OOB");
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "image/png");
  assert.deepEqual(Buffer.from(await response.arrayBuffer()), png);
});

test("a stranger's mail with dozens of attachments keeps 20, and says the rest are in the mailbox", async () => {
  const parts = Array.from({ length: 25 }, (_unused, index) =>
    ["--MANY", "Content-Type: text/plain", `Content-Disposition: attachment; filename="part-${index}.txt"`, "", `part ${index}`].join("\n"),
  );
  await lmtpDeliver(
    world,
    "rosaline@verona.test",
    JULIET_MAIL,
    [
      "From: rosaline@verona.test",
      "To: juliet@capulet.test",
      "Subject: Many files",
      "Message-ID: <many-1@verona.test>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="MANY"',
      "",
      "--MANY",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Here they are.",
      ...parts,
      "--MANY--",
      "",
    ].join("\n"),
  );
  const message = await waitForChat(juliet, "rosaline@verona.test");
  assert.equal(message.getChildren("x", "jabber:x:oob").length, 20);
  assert.match(message.getChildText("body") ?? "", /5 more attachments were not forwarded: a chat message carries at most 20; it is in the mailbox\./);
});

test("a mail in ISO-8859-1, written by another mail tool (swaks), arrives with its accents intact", async () => {
  const file = join(world.h.dir, "latin1.eml");
  const text =
    "From: Tybalt <tybalt@capulet.test>\r\nTo: juliet@capulet.test\r\nSubject: =?ISO-8859-1?Q?D=E9fi?=\r\nMessage-ID: <latin1-1@capulet.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nÀ demain, garçon. Ça suffira.\r\n";
  writeFileSync(join(world.h.dir, "latin1.eml"), Buffer.from(text, "latin1"));
  await swaksDeliver(world, ["--from", "tybalt@capulet.test", "--to", JULIET_MAIL, "--data", `@${file}`]);
  const message = await waitForChat(juliet, "tybalt@capulet.test");
  assert.equal(message.getChildText("body"), "À demain, garçon. Ça suffira.");
  assert.equal(message.getChildText("subject"), "Défi");
});

test("a mail flagged as spam by the mail server is not forwarded and stays unread in the mailbox", async () => {
  await lmtpDeliver(
    world,
    "spammer@spam.test",
    JULIET_MAIL,
    "From: spammer@spam.test\nTo: juliet@capulet.test\nSubject: Cheap potions\nMessage-ID: <spam-1@spam.test>\nX-Spam-Flag: YES\nX-Spam-Status: Yes, score=12.3\n\nBuy now\n",
  );
  // A normal mail after it proves the spam was looked at and passed over, not just slow.
  await lmtpDeliver(
    world,
    "benvolio@verona.test",
    JULIET_MAIL,
    "From: benvolio@verona.test\nTo: juliet@capulet.test\nSubject: news\nMessage-ID: <after-spam@verona.test>\n\nNot spam\n",
  );
  await waitForChat(juliet, "benvolio@verona.test");
  assert.equal(juliet.messages(emailJid("spammer@spam.test")).length, 0);
  const spam = (await readMailbox(world, JULIET_MAIL)).find((entry) => entry.mail.messageId === "<spam-1@spam.test>");
  assert.ok(spam, "the spam is still in the mailbox");
  assert.equal(spam.flags.has("\\Seen"), false);
});

test("a bounce that arrives later by mail comes back as an error for the message that failed", async () => {
  await juliet.send(chat("paris@verona.test", "I will not marry you", { id: "to-paris" }));
  const relayed = await world.relay.waitForMail(world.relay.received.length + 1);
  const messageId = /^Message-ID:\s*(<[^>]+>)/im.exec(relayed.raw.toString("latin1"))?.[1];
  assert.ok(messageId);
  await lmtpDeliver(
    world,
    "mailer-daemon@verona.test",
    JULIET_MAIL,
    [
      "From: Mail Delivery System <MAILER-DAEMON@verona.test>",
      "To: juliet@capulet.test",
      "Subject: Undelivered Mail Returned to Sender",
      "Message-ID: <dsn-1@verona.test>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="DSN"',
      "",
      "--DSN",
      "Content-Type: text/plain",
      "",
      "Your message could not be delivered.",
      "--DSN",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.verona.test",
      "",
      "Final-Recipient: rfc822; paris@verona.test",
      "Action: failed",
      "Status: 5.1.1",
      "Diagnostic-Code: smtp; 550 5.1.1 <paris@verona.test>: Recipient address rejected: User unknown",
      "",
      "--DSN",
      "Content-Type: text/rfc822-headers",
      "",
      "From: juliet@capulet.test",
      "To: paris@verona.test",
      `Message-ID: ${messageId}`,
      "Subject: Message from Jabber",
      "",
      "--DSN--",
      "",
    ].join("\n"),
  );
  const error = await juliet.waitFor(
    (stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.from === emailJid("paris@verona.test"),
    10_000,
  );
  assert.equal(error.attrs.id, "to-paris");
  assert.match(errorText(error), /User unknown/);
  assert.equal(juliet.messages(emailJid("mailer-daemon@verona.test")).length, 0, "the bounce itself is not shown as a chat");
});

test("a mail server's refusal (5xx) comes back at once as an error naming the server's reply", async () => {
  world.relay.refuse(550, "5.7.1 Juliet is not allowed to write to the Prince");
  try {
    await juliet.send(chat("prince@verona.test", "Pardon us", { id: "to-prince" }));
    const error = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === "to-prince", 10_000);
    assert.match(errorText(error), /550.*not allowed to write to the Prince/);
    const metrics = await (await fetch(`http://127.0.0.1:${world.h.gateway.httpPort}/metrics`)).text();
    assert.match(metrics, /^switchboard_provider_errors_total\{transport="email",code="550"\} 1$/m);
  } finally {
    world.relay.accept();
  }
});

test("with the policy 'only mail from addresses I wrote to', a stranger's mail stays unread in the mailbox", async () => {
  const command = async (text: string): Promise<void> => {
    await juliet.send(xml("message", { to: "email.example.test", type: "chat" }, xml("body", {}, text)));
    await juliet.waitFor(
      (stanza) => stanza.name === "message" && stanza.attrs.from === "email.example.test" && /Which mail to forward/.test(stanza.getChildText("body") ?? ""),
    );
  };
  await command("set spam=known");
  try {
    await lmtpDeliver(
      world,
      "stranger@rosaline.test",
      JULIET_MAIL,
      "From: stranger@rosaline.test\nTo: juliet@capulet.test\nSubject: hello\nMessage-ID: <stranger-1@rosaline.test>\n\nWho are you?\n",
    );
    await lmtpDeliver(
      world,
      ROMEO_MAIL,
      JULIET_MAIL,
      "From: romeo@montague.test\nTo: juliet@capulet.test\nSubject: again\nMessage-ID: <known-1@montague.test>\n\nIt is I\n",
    );
    await waitForChat(juliet, ROMEO_MAIL, (body) => body === "It is I");
    assert.equal(juliet.messages(emailJid("stranger@rosaline.test")).length, 0);
    const left = (await readMailbox(world, JULIET_MAIL)).find((entry) => entry.mail.messageId === "<stranger-1@rosaline.test>");
    assert.equal(left?.flags.has("\\Seen"), false);
  } finally {
    await command("set spam=all");
  }
});

test("unregistering stops the mailbox watch: later mail is not forwarded", async () => {
  const reply = await juliet.iq(xml("iq", { type: "set", to: "email.example.test" }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))));
  assert.equal(reply.attrs.type, "result");
  await lmtpDeliver(
    world,
    "nurse@capulet.test",
    JULIET_MAIL,
    "From: nurse@capulet.test\nTo: juliet@capulet.test\nSubject: late\nMessage-ID: <late-1@capulet.test>\n\nToo late\n",
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(juliet.messages(emailJid("nurse@capulet.test")).filter((stanza) => stanza.getChildText("body") === "Too late").length, 0);
});
