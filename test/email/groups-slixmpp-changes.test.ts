// slixmpp, a Jabber client that is not ours, changes a mail thread's group chat: it sets the subject
// (XEP-0045 §8.1), invites an e-mail contact (§7.8.2) and reads one person's messages from the
// archive (XEP-0313 `with`), each with its own plugin's stanzas; the mail that follows shows all.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runSlixmppScript, stepsOf } from "../interop/slixmpp-run.js";
import { ADDRESSES, answerMail, invitedTo, isInvitation, mail } from "../support/groups.js";
import { PASSWORD } from "../support/harness.js";
import type { TestClient } from "../support/xmpp-client.js";
import { emailJid, eventually, personalAccount, readMailbox, registerEmail, smtpSend, startWorld, type World } from "./world.js";

const { JULIET, ROMEO, NURSE, BENVOLIO } = ADDRESSES;

let world: World;
let juliet: TestClient;

before(async () => {
  world = await startWorld({ mailboxes: [JULIET, ROMEO, NURSE, BENVOLIO] });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET));
  assert.equal(reply.attrs.type, "result", reply.toString());
});
after(async () => {
  await world?.stop();
});

test("slixmpp sets the subject, invites an e-mail contact and filters the archive by occupant; the next mail has the new subject and the new person", async () => {
  const first = {
    From: "Romeo Montague <romeo@montague.test>",
    To: `${JULIET}, Nurse <${NURSE}>`,
    Subject: "The wedding",
    "Message-ID": "<slix-changes-1@montague.test>",
  };
  await smtpSend(world, ROMEO, [JULIET, NURSE], mail(first, "Noon, at the cell."));
  const room = invitedTo(await juliet.waitFor(isInvitation, 15_000));
  const answer = { From: `Nurse <${NURSE}>`, To: `${JULIET}, ${ROMEO}`, Subject: "Re: The wedding", "Message-ID": "<slix-changes-2@capulet.test>" };
  await smtpSend(world, NURSE, [JULIET, ROMEO], answerMail(answer, "<slix-changes-1@montague.test>", "Not noon, I sleep."));
  // Taken into the room's archive (and so marked read) before slixmpp asks for it.
  await eventually(
    async () => (await readMailbox(world, JULIET)).find((entry) => entry.mail.messageId === "<slix-changes-2@capulet.test>")?.flags.has("\\Seen"),
    "the nurse's mail taken by the gateway",
    15_000,
  );

  const args = ["changes", "juliet@example.test", PASSWORD, String(world.h.server.c2sPort), room, emailJid(BENVOLIO)];
  const step = await stepsOf(runSlixmppScript("slixmpp-muc.py", args));

  assert.deepEqual(step("subject"), { step: "subject", subject: "Tea on Friday", nick: "Jules" });
  assert.deepEqual(
    step("config"),
    { step: "config", name: "Tea on Friday", membersonly: true },
    "the form shows the new subject, and sent back it is accepted",
  );
  assert.deepEqual(step("invited"), { step: "invited", nick: BENVOLIO, jid: emailJid(BENVOLIO) });
  assert.deepEqual(step("mam").bodies, ["Noon, at the cell."], "Romeo's message only, not the nurse's");

  const sent = await eventually(async () => world.relay.received.find((mail) => mail.raw.toString("utf8").includes("Tea it is, cousin.")), "the mail to all");
  assert.deepEqual([...sent.to].sort(), [BENVOLIO, NURSE, ROMEO]);
  assert.match(sent.raw.toString("latin1"), /^Subject: Tea on Friday\r?$/im);
});
