// Starting a group conversation from XMPP: the user names the people and the subject, gets a room
// on the e-mail component, writes once to all of them, and their answers come back into the room.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ADDRESSES, answerMail, commandsOf, invitedTo, isInvitation, joinRoom, MUC_USER, othersIn } from "../support/groups.js";
import { xml, type TestClient } from "../support/xmpp-client.js";
import { EMAIL, eventually, personalAccount, readMailbox, registerEmail, smtpSend, startWorld, type World } from "./world.js";

const { JULIET, ROMEO, NURSE } = ADDRESSES;

let world: World;
let juliet: TestClient;

before(async () => {
  world = await startWorld({ mailboxes: [JULIET, ROMEO, NURSE] });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET, { name: "Juliet" }));
  assert.equal(reply.attrs.type, "result", reply.toString());
});
after(async () => {
  await world?.stop();
});

test("a user starts a group by chat command, joins it, writes once to all, and the answers come back into it", async () => {
  assert.ok((await commandsOf(juliet, EMAIL)).includes("new-group"), "offered as an ad-hoc command");

  await juliet.send(xml("message", { to: EMAIL, type: "chat" }, xml("body", {}, `group ${ROMEO}, ${NURSE} subject="Picnic on Sunday"`)));
  const answer = await juliet.waitFor(
    (stanza) => stanza.name === "message" && stanza.attrs.from === EMAIL && /group chat/.test(stanza.getChildText("body") ?? ""),
  );
  const invitation = await juliet.waitFor(isInvitation);
  const room = invitedTo(invitation);
  assert.ok(answer.getChildText("body")!.includes(room));
  assert.equal(invitation.getChild("x", "jabber:x:conference")!.attrs.reason, "Picnic on Sunday");

  const { presences, subject } = await joinRoom(juliet, room, "Juliet");
  assert.equal(subject.getChildText("subject"), "Picnic on Sunday");
  assert.deepEqual(othersIn(presences, room, "Juliet").nicks, [NURSE, ROMEO]);

  const relayedBefore = world.relay.received.length;
  await juliet.send(xml("message", { to: room, type: "groupchat", id: "picnic-1" }, xml("body", {}, "Who brings the bread?")));
  await juliet.waitFor((stanza) => stanza.attrs.type === "groupchat" && stanza.attrs.id === "picnic-1");
  const relayed = await world.relay.waitForMail(relayedBefore + 1);
  assert.deepEqual([...relayed.to].sort(), [NURSE, ROMEO]);
  const sent = await eventually(
    async () => (await readMailbox(world, ROMEO)).find((entry) => entry.mail.text?.includes("Who brings the bread?"))?.mail,
    "the first mail in Romeo's mailbox",
  );
  assert.equal(sent.subject, "Picnic on Sunday", "the first mail has the group's own subject, without Re:");
  assert.equal(sent.inReplyTo, undefined);

  const bread = {
    From: "Romeo Montague <romeo@montague.test>",
    To: `${JULIET}, ${NURSE}`,
    Subject: "Re: Picnic on Sunday",
    "Message-ID": "<bread@montague.test>",
  };
  await smtpSend(world, ROMEO, [JULIET, NURSE], answerMail(bread, sent.messageId!, "I will."));
  const reply = await juliet.waitFor((stanza) => stanza.attrs.type === "groupchat" && stanza.getChildText("body") === "I will.", 15_000);
  // Named by address when the group began, Romeo now has a name: his nick follows it (status 303).
  assert.equal(reply.attrs.from, `${room}/Romeo Montague`);
  const renamed = juliet.received.find(
    (stanza) => stanza.name === "presence" && stanza.attrs.from === `${room}/${ROMEO}` && stanza.attrs.type === "unavailable",
  );
  assert.ok(
    renamed
      ?.getChild("x", MUC_USER)
      ?.getChildren("status")
      .some((status) => status.attrs.code === "303"),
    "the old nick leaves with status 303",
  );
  assert.equal(juliet.received.filter((stanza) => stanza.getChild("x", "jabber:x:conference")).length, 0, "no second room for the answer");
});

test("starting a group refuses what is not an address, and needs a subject", async () => {
  for (const [body, expected] of [
    ["group not-an-address subject=x", /not an e-mail address/],
    [`group ${ROMEO}`, /subject/],
  ] as const) {
    await juliet.send(xml("message", { to: EMAIL, type: "chat" }, xml("body", {}, body)));
    const answer = await juliet.waitFor(
      (stanza) => stanza.name === "message" && stanza.attrs.from === EMAIL && expected.test(stanza.getChildText("body") ?? ""),
    );
    assert.ok(answer);
  }
  assert.equal(juliet.received.filter((stanza) => stanza.getChild("x", "jabber:x:conference")).length, 0);
});
