// slixmpp, a Jabber client that is not ours, in a mail thread's group chat: the invitation the
// server kept while it was offline, the join (XEP-0045), a message to all, the archive (XEP-0313).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runSlixmppScript, stepsOf } from "../interop/slixmpp-run.js";
import { ADDRESSES, mail } from "../support/groups.js";
import { PASSWORD } from "../support/harness.js";
import { eventually, personalAccount, readMailbox, registerEmail, smtpSend, startWorld, type World } from "./world.js";

const { JULIET, ROMEO, NURSE, FRIAR } = ADDRESSES;

let world: World;

before(async () => {
  world = await startWorld({ mailboxes: [JULIET, ROMEO, NURSE, FRIAR] });
  const juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET));
  assert.equal(reply.attrs.type, "result", reply.toString());
  await juliet.stop();
});
after(async () => {
  await world?.stop();
});

test("slixmpp takes the stored invitation, joins, sees the three participants, writes to all and reads the archive", async () => {
  const plan = {
    From: "Romeo Montague <romeo@montague.test>",
    To: "juliet@capulet.test, Nurse <nurse@capulet.test>",
    Cc: "Friar Laurence <laurence@friary.test>",
    Subject: "The wedding",
    "Message-ID": "<slix-plan-1@montague.test>",
  };
  await smtpSend(world, ROMEO, [JULIET, NURSE, FRIAR], mail(plan, "Noon, at the cell."));
  await eventually(
    async () => (await readMailbox(world, JULIET)).find((entry) => entry.mail.messageId === "<slix-plan-1@montague.test>")?.flags.has("\\Seen"),
    "the mail taken by the gateway while Juliet is offline",
    15_000,
  );
  const before = world.relay.received.length;

  const step = await stepsOf(runSlixmppScript("slixmpp-muc.py", ["invitation", "juliet@example.test", PASSWORD, String(world.h.server.c2sPort)]));

  assert.equal(step("invited").reason, "The wedding");
  assert.ok((step("disco").features as string[]).includes("http://jabber.org/protocol/muc"));
  const joined = step("joined");
  assert.equal(joined.nick, "Jules");
  assert.ok((joined.codes as number[]).includes(110));
  assert.equal(joined.affiliation, "owner");
  // slixmpp counts its own presence among the occupants.
  assert.deepEqual(joined.occupants, ["Friar Laurence", "Jules", "Nurse", "Romeo Montague"]);
  assert.equal(joined.subject, "The wedding");
  assert.deepEqual(joined.history, ["Noon, at the cell."]);
  assert.deepEqual(step("echo"), { step: "echo", id: "slix-room-1", nick: "Jules" });
  assert.deepEqual(step("mam").bodies, ["Noon, at the cell.", "Hello all, from slixmpp"]);

  const relayed = await world.relay.waitForMail(before + 1);
  assert.deepEqual([...relayed.to].sort(), [FRIAR, NURSE, ROMEO]);
  assert.match(relayed.raw.toString("latin1"), /^In-Reply-To: <slix-plan-1@montague\.test>\r?$/im);
  assert.match(relayed.raw.toString("latin1"), /^Subject: Re: The wedding\r?$/im);
});
