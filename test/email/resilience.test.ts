// Nothing lost, nothing doubled: restarts of Dovecot and of the gateway, a dropped IMAP
// connection, and an SMTP server that is away for a while.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { xml, type TestClient } from "../support/xmpp-client.js";
import { chat, EMAIL, emailJid, MAIL_PASSWORD, eventually, lmtpDeliver, personalAccount, readMailbox, registerEmail, startWorld, type World } from "./world.js";

const JULIET_MAIL = "juliet@capulet.test";
const ROMEO_MAIL = "romeo@montague.test";
const SENDER = "romeo@montague.test";

let world: World;
let juliet: TestClient;

before(async () => {
  world = await startWorld({ mailboxes: [JULIET_MAIL, ROMEO_MAIL] });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET_MAIL));
  assert.equal(reply.attrs.type, "result", reply.toString());
  // Accept the gateway in the roster, as a client's user would: its presence then shows account trouble.
  await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === EMAIL);
  await juliet.send(xml("presence", { to: EMAIL, type: "subscribed" }));
  await juliet.send(xml("presence", { to: EMAIL, type: "subscribe" }));
  await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribed" && stanza.attrs.from === EMAIL);
});
after(async () => {
  await world?.stop();
});

const mailFrom = (id: string): string => `From: Romeo <${SENDER}>\nTo: ${JULIET_MAIL}\nSubject: ${id}\nMessage-ID: <${id}@montague.test>\n\nmail ${id}\n`;

/** Bodies of the chat messages Juliet has from Romeo so far, in arrival order. */
const bodies = (client: TestClient): string[] => client.messages(emailJid(SENDER)).map((stanza) => stanza.getChildText("body") ?? "");

/** Waits until every expected body arrived, gives doubles a moment to show, and checks each came once. */
async function expectExactlyOnce(expected: string[]): Promise<void> {
  await eventually(async () => expected.every((body) => bodies(juliet).includes(body)), `mails ${expected.join(", ")}`, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const got = bodies(juliet).filter((body) => expected.includes(body));
  assert.deepEqual([...got].sort(), [...expected].sort(), "each mail arrives exactly once");
}

test("mail keeps flowing across a restart of Dovecot: none lost, none doubled", async () => {
  const before = ["d1", "d2", "d3"].map((id) => `mail ${id}`);
  for (const id of ["d1", "d2", "d3"]) await lmtpDeliver(world, SENDER, JULIET_MAIL, mailFrom(id));
  await world.dovecot.restart();
  for (const id of ["d4", "d5", "d6"]) await lmtpDeliver(world, SENDER, JULIET_MAIL, mailFrom(id));
  await expectExactlyOnce([...before, "mail d4", "mail d5", "mail d6"]);
});

test("a dropped IMAP connection resumes where it stopped", async () => {
  // The gateway's session may still be reconnecting after the previous test's restart.
  await eventually(async () => world.dovecot.dropConnections(JULIET_MAIL) > 0, "the gateway's IMAP session to drop");
  for (const id of ["k1", "k2"]) await lmtpDeliver(world, SENDER, JULIET_MAIL, mailFrom(id));
  await expectExactlyOnce(["mail k1", "mail k2"]);
});

test("mail keeps flowing across a restart of the gateway mid-stream: none lost, none doubled", async () => {
  const ids = Array.from({ length: 10 }, (_, index) => `g${index + 1}`);
  for (const id of ids.slice(0, 6)) await lmtpDeliver(world, SENDER, JULIET_MAIL, mailFrom(id));
  // Stop while the first of them are still being handed on.
  await eventually(async () => bodies(juliet).includes("mail g1"), "the first mail of the burst");
  await world.h.stopGateway();
  for (const id of ids.slice(6)) await lmtpDeliver(world, SENDER, JULIET_MAIL, mailFrom(id));
  await world.h.startGateway();
  await expectExactlyOnce(ids.map((id) => `mail ${id}`));
  // Everything forwarded is marked read, once its chat message was with the server.
  await eventually(async () => {
    const mails = await readMailbox(world, JULIET_MAIL);
    return mails.filter((entry) => /^<g\d+@/.test(entry.mail.messageId ?? "")).every((entry) => entry.flags.has("\\Seen"));
  }, "all forwarded mails flagged \\Seen");
});

test("a message written while the SMTP server is down is sent once it is back", async () => {
  await world.relay.stop();
  const count = world.relay.received.length;
  await juliet.send(chat(ROMEO_MAIL, "Are you there?", { id: "while-down" }));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await world.relay.start();
  await world.relay.waitForMail(count + 1, 20_000);
  const mails = await eventually(async () => {
    const found = (await readMailbox(world, ROMEO_MAIL)).filter((entry) => entry.mail.text?.includes("Are you there?"));
    return found.length > 0 && found;
  }, "the mail in Romeo's mailbox");
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(mails.length, 1);
  assert.equal(world.relay.received.length, count + 1, "sent once");
  assert.equal(juliet.received.filter((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "while-down").length, 0, "no error reached the sender");
});

test("when the mailbox refuses the login, the gateway shows as unavailable saying why, and comes back once it works", async () => {
  world.dovecot.addMailbox(JULIET_MAIL, "changed-elsewhere");
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // Dovecot re-reads its user file at most once a second
  await eventually(async () => world.dovecot.dropConnections(JULIET_MAIL) > 0, "the gateway's IMAP session to drop");
  // Presences from earlier tests (the gateway's restart) are still in the client's list; skip them.
  juliet.received.splice(0, juliet.received.length, ...juliet.received.filter((stanza) => stanza.name !== "presence"));
  const down = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === EMAIL && stanza.attrs.type === "unavailable", 15_000);
  assert.match(down.getChildText("status") ?? "", new RegExp(`IMAP server 127\\.0\\.0\\.1:${world.dovecot.imapPort} refused the login`));
  world.dovecot.addMailbox(JULIET_MAIL, MAIL_PASSWORD);
  await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === EMAIL && stanza.attrs.type === undefined, 15_000);
  await lmtpDeliver(world, SENDER, JULIET_MAIL, mailFrom("after-login"));
  await expectExactlyOnce(["mail after-login"]);
});
