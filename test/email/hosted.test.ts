// Hosted domain: the operator runs one catch-all mailbox for a mail domain; each Jabber user gets
// an address on it and mails the world from their client.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { errorCondition, errorText, xml, type Element, type TestClient } from "../support/xmpp-client.js";
import { chat, EMAIL, emailJid, eventually, MAIL_PASSWORD, readMailbox, registerEmail, smtpSend, startWorld, waitForChat, type World } from "./world.js";

const MAIL_DOMAIN = "mail.example.test";
const CATCH_ALL = `catchall@${MAIL_DOMAIN}`;
const TYBALT = "tybalt@capulet.test";

let world: World;
let juliet: TestClient;
let romeo: TestClient;

before(async () => {
  world = await startWorld({
    mailboxes: [CATCH_ALL, TYBALT],
    catchAll: { [MAIL_DOMAIN]: CATCH_ALL },
    email: ({ imap, smtp }) => ({
      mode: "hosted",
      hosted: {
        domain: MAIL_DOMAIN,
        imap: { host: "127.0.0.1", port: imap, security: "none", user: CATCH_ALL, password: MAIL_PASSWORD },
        smtp: { host: "127.0.0.1", port: smtp, security: "none" },
      },
    }),
  });
  juliet = await world.h.login("juliet");
  romeo = await world.h.login("romeo");
});
after(async () => {
  await world?.stop();
});

test("a user who registers without choosing gets the address of their JID's name, and it is theirs alone", async () => {
  const form = await juliet.iq(xml("iq", { type: "get", to: EMAIL }, xml("query", { xmlns: "jabber:iq:register" })));
  const field = form
    .getChild("query")
    ?.getChild("x", "jabber:x:data")
    ?.getChildren("field")
    .find((candidate) => candidate.attrs.var === "address");
  assert.equal(field?.getChildText("value"), "juliet");
  assert.equal((await registerEmail(juliet, { name: "Juliet" })).attrs.type, "result");
  const taken = await registerEmail(romeo, { address: "juliet" });
  assert.equal(taken.attrs.type, "error");
  assert.equal(errorCondition(taken), "conflict");
  assert.match(errorText(taken), /juliet@mail\.example\.test belongs to someone else/);
  const wrongDomain = await registerEmail(romeo, { address: "romeo@elsewhere.test" });
  assert.equal(errorCondition(wrongDomain), "not-acceptable");
  assert.equal((await registerEmail(romeo, { address: "romeo" })).attrs.type, "result");
});

let sentMessageId = "";

test("Juliet's chat message leaves through the relay from her address on the hosted domain", async () => {
  await juliet.send(chat(TYBALT, "Put up thy sword", { thread: "duel" }));
  const mail = await eventually(
    async () => (await readMailbox(world, TYBALT)).find((entry) => entry.mail.text?.includes("Put up thy sword"))?.mail,
    "the mail in Tybalt's mailbox",
  );
  assert.equal(mail.from?.value[0]?.address, `juliet@${MAIL_DOMAIN}`);
  assert.equal(mail.from?.value[0]?.name, "Juliet");
  assert.equal(mail.subject, "Message from Jabber");
  sentMessageId = mail.messageId ?? "";
  assert.match(sentMessageId, /@email\.example\.test>$/);
});

test("a reply to her hosted address reaches Juliet as a chat in the same thread, and only Juliet", async () => {
  await smtpSend(
    world,
    TYBALT,
    [`juliet@${MAIL_DOMAIN}`],
    `From: Tybalt <${TYBALT}>\nTo: juliet@${MAIL_DOMAIN}\nSubject: Re: Message from Jabber\nMessage-ID: <tybalt-1@capulet.test>\nIn-Reply-To: ${sentMessageId}\nReferences: ${sentMessageId}\n\nNever!\n`,
  );
  const message = await waitForChat(juliet, TYBALT);
  assert.equal(message.getChildText("body"), "Never!");
  assert.equal(message.getChildText("thread"), "duel");
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(romeo.messages(emailJid(TYBALT)).length, 0);
});

test("a mail to two users of the domain reaches each of them once, as a group chat of their own (docs/groups.md)", async () => {
  await smtpSend(
    world,
    TYBALT,
    [`juliet@${MAIL_DOMAIN}`, `romeo@${MAIL_DOMAIN}`],
    `From: ${TYBALT}\nTo: juliet@${MAIL_DOMAIN}, romeo@${MAIL_DOMAIN}\nSubject: Both of you\nMessage-ID: <tybalt-2@capulet.test>\n\nTo both Montague and Capulet\n`,
  );
  const invited = (stanza: Element): boolean => stanza.name === "message" && stanza.getChild("x", "jabber:x:conference") !== undefined;
  const rooms = await Promise.all(
    [juliet, romeo].map(async (client) => (await client.waitFor(invited, 10_000)).getChild("x", "jabber:x:conference")!.attrs.jid!),
  );
  assert.notEqual(rooms[0], rooms[1], "each user has a room of their own");
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  for (const [i, client] of [juliet, romeo].entries()) {
    assert.equal(client.received.filter(invited).length, 0, "invited twice");
    assert.equal(client.messages(emailJid(TYBALT)).length, 0, "the mail came one-to-one too");
    const queryid = `q${i}`;
    const fin = await client.iq(xml("iq", { type: "set", to: rooms[i] }, xml("query", { xmlns: "urn:xmpp:mam:2", queryid })));
    assert.equal(fin.attrs.type, "result", fin.toString());
    const kept = client.received.filter((stanza) => stanza.getChild("result", "urn:xmpp:mam:2")?.attrs.queryid === queryid);
    assert.deepEqual(
      kept.map((result) => result.getChild("result")!.getChild("forwarded")!.getChild("message")!.getChildText("body")),
      ["To both Montague and Capulet"],
    );
  }
});

test("mail for an address nobody registered is left in the catch-all mailbox, unread", async () => {
  await smtpSend(
    world,
    TYBALT,
    [`mercutio@${MAIL_DOMAIN}`],
    `From: ${TYBALT}\nTo: mercutio@${MAIL_DOMAIN}\nSubject: hello\nMessage-ID: <tybalt-3@capulet.test>\n\nAnyone?\n`,
  );
  await smtpSend(
    world,
    TYBALT,
    [`juliet@${MAIL_DOMAIN}`],
    `From: ${TYBALT}\nTo: juliet@${MAIL_DOMAIN}\nSubject: next\nMessage-ID: <tybalt-4@capulet.test>\n\nAfter the unknown one\n`,
  );
  await waitForChat(juliet, TYBALT, (body) => body === "After the unknown one");
  const left = (await readMailbox(world, CATCH_ALL)).find((entry) => entry.mail.messageId === "<tybalt-3@capulet.test>");
  assert.ok(left);
  assert.equal(left.flags.has("\\Seen"), false);
  assert.equal(juliet.messages(emailJid(TYBALT)).filter((stanza) => stanza.getChildText("body") === "Anyone?").length, 0);
});

test("when the catch-all mailbox refuses the login, its users see the gateway unavailable saying why", async () => {
  // Accept the gateway in the roster, as a client's user would, so its presence reaches Juliet.
  await juliet.send(xml("presence", { to: EMAIL, type: "subscribed" }));
  await juliet.send(xml("presence", { to: EMAIL, type: "subscribe" }));
  await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribed" && stanza.attrs.from === EMAIL);
  juliet.received.splice(0, juliet.received.length, ...juliet.received.filter((stanza) => stanza.name !== "presence"));
  world.dovecot.addMailbox(CATCH_ALL, "changed-by-the-operator");
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // Dovecot re-reads its user file at most once a second
  try {
    await eventually(async () => world.dovecot.dropConnections(CATCH_ALL) > 0, "the catch-all session to drop");
    const down = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === EMAIL && stanza.attrs.type === "unavailable", 15_000);
    assert.match(down.getChildText("status") ?? "", /cannot read its mailbox for mail\.example\.test/);
  } finally {
    world.dovecot.addMailbox(CATCH_ALL, MAIL_PASSWORD);
  }
  await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === EMAIL && stanza.attrs.type === undefined, 15_000);
});
