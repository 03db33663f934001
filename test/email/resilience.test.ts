// Nothing lost, nothing doubled: restarts of Dovecot and of the gateway, a dropped IMAP
// connection, and an SMTP server that is away for a while.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { TestClient } from "../support/xmpp-client.js";
import { chat, emailJid, eventually, lmtpDeliver, personalAccount, readMailbox, registerEmail, startWorld, type World } from "./world.js";

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

test("a dropped IMAP connection (kicked by the server) resumes where it stopped", async () => {
  const doveadm = (...args: string[]) => spawnSync("doveadm", ["-c", join(world.dovecot.dir, "dovecot.conf"), ...args], { encoding: "utf8" });
  // The gateway's session may still be reconnecting after the previous test's restart.
  await eventually(async () => doveadm("who").stdout.includes(JULIET_MAIL), "the gateway's IMAP session");
  const kicked = doveadm("kick", JULIET_MAIL);
  assert.equal(kicked.status, 0, `${kicked.stdout} ${kicked.stderr}`);
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
  assert.equal(
    juliet.received.filter((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "while-down").length,
    0,
    "no error reached the sender",
  );
});
