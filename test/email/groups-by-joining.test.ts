// Starting a group the way every XMPP client does: join a room JID that does not exist yet, invite
// people into it, and write. Real Dovecot, a real SMTP relay, a real XMPP server, @xmpp/client.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  ADDRESSES,
  answerMail,
  joinRoom,
  MUC,
  MUC_OWNER,
  MUC_USER,
  othersIn,
  refusedJoin as refused,
  rowsStartingWith,
  statusCodes as codesOf,
} from "../support/groups.js";
import { xml, type Element, type TestClient } from "../support/xmpp-client.js";
import { EMAIL, emailJid, eventually, personalAccount, readMailbox, registerEmail, smtpSend, startWorld, type World } from "./world.js";

const { JULIET, ROMEO, NURSE, FRIAR } = ADDRESSES;
const PICNIC = `picnic@${EMAIL}`;

let world: World;
let juliet: TestClient;
let romeo: TestClient;

before(async () => {
  world = await startWorld({ mailboxes: [JULIET, ROMEO, NURSE, FRIAR] });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET, { name: "Juliet" }));
  assert.equal(reply.attrs.type, "result", reply.toString());
  romeo = await world.h.login("romeo");
  const his = await registerEmail(romeo, personalAccount(world, ROMEO, { name: "Romeo" }));
  assert.equal(his.attrs.type, "result", his.toString());
});
after(async () => {
  await world?.stop();
});

/** Joins `room` as `nick`: the user's own presence, the occupants' nicks, the subject that ends the join, the history. */
async function join(client: TestClient, room: string, nick: string): Promise<{ self: Element; others: string[]; subject: Element; messages: Element[] }> {
  const { presences, messages, subject } = await joinRoom(client, room, nick);
  const self = presences.find((presence) => presence.attrs.from === `${room}/${nick}` && !presence.attrs.type) ?? assert.fail(`no presence of ${nick}'s own`);
  return { self, others: othersIn(presences, room, nick).nicks, subject, messages };
}

/** A join as Juliet refused: the presence error and its text. */
const refusedJoin = (client: TestClient, room: string) => refused(client, room, "Juliet");

test("joining a name that is no room yet makes an empty room the user owns (110, 201), usable at once and shown as a room", async () => {
  // Clients ask first; item-not-found tells them the name is free to create (XEP-0045 §6.4).
  const before = await juliet.iq(xml("iq", { type: "get", to: PICNIC }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
  assert.equal(before.getChild("error")?.getChildElements()[0]?.name, "item-not-found", before.toString());
  const { self, others, subject } = await join(juliet, PICNIC, "Juliet");
  assert.deepEqual(codesOf(self), ["100", "110", "170", "201"]);
  assert.equal(self.getChild("x", MUC_USER)?.getChild("item")?.attrs.affiliation, "owner");
  assert.deepEqual(others, [], "nobody else is in it yet");
  assert.equal(subject.getChildText("subject"), "picnic", "the name the user chose");

  // Gajim and Conversations accept the default configuration of a new room with an empty form.
  const configure = (to: string, ...fields: Element[]) =>
    juliet.iq(xml("iq", { type: "set", to }, xml("query", { xmlns: MUC_OWNER }, xml("x", { xmlns: "jabber:x:data", type: "submit" }, ...fields))));
  const instant = await configure(PICNIC);
  assert.equal(instant.attrs.type, "result", instant.toString());
  const elsewhere = await configure(`no-such-room@${EMAIL}`);
  assert.equal(elsewhere.attrs.type, "error", "no room to accept");
  const configured = await configure(PICNIC, xml("field", { var: "muc#roomconfig_publicroom" }, xml("value", {}, "1")));
  assert.equal(configured.getChild("error")?.getChildElements()[0]?.name, "not-acceptable", "a configuration other than the default is refused");
  assert.match(configured.getChild("error")?.getChildText("text") ?? "", /"Listed in searches" cannot be changed/);

  // Gajim asks for the configuration form and sends it back from its dialog.
  const asked = await juliet.iq(xml("iq", { type: "get", to: PICNIC }, xml("query", { xmlns: MUC_OWNER })));
  assert.equal(asked.attrs.type, "result", asked.toString());
  const form = asked.getChild("query", MUC_OWNER)?.getChild("x", "jabber:x:data");
  assert.equal(form?.attrs.type, "form");
  const shown = new Map(form?.getChildren("field").map((field) => [field.attrs.var as string, field.getChildText("value") ?? ""]));
  assert.equal(shown.get("FORM_TYPE"), "http://jabber.org/protocol/muc#roomconfig");
  assert.equal(shown.get("muc#roomconfig_roomname"), "picnic", "the room's name");
  assert.equal(shown.get("muc#roomconfig_membersonly"), "1");
  assert.equal(shown.get("muc#roomconfig_whois"), "anyone", "participants' addresses are shown");
  const sentBack = [...shown].map(([name, value]) => xml("field", { var: name }, xml("value", {}, value)));
  const unchanged = await configure(PICNIC, ...sentBack);
  assert.equal(unchanged.attrs.type, "result", `the form sent back unchanged is accepted: ${unchanged.toString()}`);
  const renamed = await configure(
    PICNIC,
    ...sentBack.map((field) => (field.attrs.var === "muc#roomconfig_roomname" ? xml("field", { var: field.attrs.var }, xml("value", {}, "barbecue")) : field)),
  );
  assert.equal(renamed.getChild("error")?.getChildElements()[0]?.name, "not-acceptable");
  assert.match(renamed.getChild("error")?.getChildText("text") ?? "", /change the subject/);
  const strange = await configure(PICNIC, xml("field", { var: "muc#roomconfig_<script>" }, xml("value", {}, "1")));
  assert.equal(strange.getChild("error")?.getChildElements()[0]?.name, "not-acceptable", "a setting the room does not have is refused");
  const elsewhereForm = await juliet.iq(xml("iq", { type: "get", to: `no-such-room@${EMAIL}` }, xml("query", { xmlns: MUC_OWNER })));
  assert.equal(elsewhereForm.attrs.type, "error", "no room, no form");

  const info = await juliet.iq(xml("iq", { type: "get", to: PICNIC }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
  assert.equal(info.attrs.type, "result", info.toString());
  const identity = info.getChild("query")?.getChild("identity");
  assert.deepEqual([identity?.attrs.category, identity?.attrs.type, identity?.attrs.name], ["conference", "text", "picnic"]);
  assert.ok(
    info
      .getChild("query")
      ?.getChildren("feature")
      .some((feature) => feature.attrs.var === MUC),
  );
});

test("writing in a room with nobody in it is refused in words", async () => {
  const before = world.relay.received.length;
  await juliet.send(xml("message", { to: PICNIC, type: "groupchat", id: "alone-1" }, xml("body", {}, "Anyone?")));
  const error = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === "alone-1");
  assert.match(error.getChild("error")?.getChildText("text") ?? "", /invite someone first/);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(world.relay.received.length, before, "no mail left");
});

test("two people invited into the new room get the user's first message as one mail to both, and an answer comes back into it", async () => {
  await juliet.send(
    xml("message", { to: PICNIC }, xml("x", { xmlns: MUC_USER }, xml("invite", { to: emailJid(ROMEO) }), xml("invite", { to: emailJid(NURSE) }))),
  );
  for (const nick of [ROMEO, NURSE]) {
    await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === `${PICNIC}/${nick}` && !stanza.attrs.type);
  }
  const before = world.relay.received.length;
  await juliet.send(xml("message", { to: PICNIC, type: "groupchat", id: "picnic-1" }, xml("body", {}, "Picnic on Sunday?")));
  await juliet.waitFor((stanza) => stanza.attrs.type === "groupchat" && stanza.attrs.id === "picnic-1");
  const relayed = await world.relay.waitForMail(before + 1, 15_000);
  assert.deepEqual([...relayed.to].sort(), [NURSE, ROMEO]);
  const headers = relayed.raw.toString("latin1");
  assert.match(headers, /^To: romeo@montague\.test\r?$/im);
  assert.match(headers, /^Cc: nurse@capulet\.test\r?$/im);
  for (const mailbox of [ROMEO, NURSE]) {
    const found = await eventually(
      async () => {
        const mails = (await readMailbox(world, mailbox)).filter((entry) => entry.mail.text?.includes("Picnic on Sunday?"));
        return mails.length > 0 && mails;
      },
      `the mail in ${mailbox}'s mailbox`,
      15_000,
    );
    assert.equal(found.length, 1, `one mail in ${mailbox}'s mailbox`);
    assert.equal(found[0]!.mail.subject, "picnic");
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(world.relay.received.length, before + 1, "one mail, not one per person");

  const sent = (await readMailbox(world, ROMEO)).find((entry) => entry.mail.text?.includes("Picnic on Sunday?"))!.mail;
  const answer = {
    From: "Romeo Montague <romeo@montague.test>",
    To: `${JULIET}, ${NURSE}`,
    Subject: "Re: picnic",
    "Message-ID": "<picnic-answer@montague.test>",
  };
  await smtpSend(world, ROMEO, [JULIET, NURSE], answerMail(answer, sent.messageId!, "I bring the bread."));
  const answered = await juliet.waitFor((stanza) => stanza.attrs.type === "groupchat" && stanza.getChildText("body") === "I bring the bread.", 15_000);
  assert.equal(answered.attrs.from?.split("/")[0], PICNIC, "the answer lands in the room the user named");
  assert.equal(juliet.received.filter((stanza) => stanza.getChild("x", "jabber:x:conference")).length, 0, "no second room for the answer");
});

test("another user joining the same name gets a room of their own", async () => {
  const { self, others, subject } = await join(romeo, PICNIC, "Romeo");
  assert.ok(codesOf(self).includes("201"), "made for him");
  assert.deepEqual(others, [], "Juliet's people are not in his room");
  assert.equal(subject.getChildText("subject"), "picnic");
  await romeo.send(xml("presence", { to: `${PICNIC}/Romeo`, type: "unavailable" }));
});

test("a message to a local part that is no address and no room still gets the contact's error; only a join makes a room", async () => {
  await juliet.send(xml("message", { to: `nobody-here@${EMAIL}`, type: "chat", id: "nobody-1" }, xml("body", {}, "Hello?")));
  const error = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === "nobody-1");
  assert.match(error.getChild("error")?.getChildText("text") ?? "", /not an e-mail address/);
  // A groupchat message to it is a contact's too, as before: it makes no room.
  await juliet.send(xml("message", { to: `nobody-here@${EMAIL}`, type: "groupchat", id: "nobody-2" }, xml("body", {}, "Hello?")));
  const again = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === "nobody-2");
  assert.match(again.getChild("error")?.getChildText("text") ?? "", /does not handle groupchat messages/);
  const { self } = await join(juliet, `nobody-here@${EMAIL}`, "Juliet");
  assert.ok(codesOf(self).includes("201"), "the join, not the messages before it, made the room");
  const destroyed = await juliet.iq(xml("iq", { type: "set", to: `nobody-here@${EMAIL}` }, xml("query", { xmlns: MUC_OWNER }, xml("destroy", {}))));
  assert.equal(destroyed.attrs.type, "result", destroyed.toString());
});

test("hostile or over-long names are refused in words, and make no room", async () => {
  // What nodeprep refuses, a strict server (ejabberd) refuses itself and the gateway refuses behind a
  // lenient one (Prosody): bad-request either way, with the server's words or the gateway's.
  for (const [name, condition, words] of [
    ["a".repeat(65), "not-acceptable", /at most 64 characters/],
    ["left\u2066to\u2069right", "bad-request", /./],
    ["invisible\u2064plus", "bad-request", /./],
    ["pipe|name", "not-acceptable", /cannot hold "\|"/],
  ] as const) {
    const refused = await refusedJoin(juliet, `${name}@${EMAIL}`);
    assert.equal(refused.condition, condition, name);
    assert.match(refused.text, words, name);
  }
  const info = await juliet.iq(xml("iq", { type: "get", to: `pipe|name@${EMAIL}` }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
  assert.equal(info.getChild("error")?.getChildElements()[0]?.name, "item-not-found", "no room was made");
  // A control character that XML allows (NEL) both servers' nodeprep refuses before the gateway sees
  // it, each in its own way: Prosody with jid-malformed, ejabberd with bad-request.
  const control = await refusedJoin(juliet, `next\u0085line@${EMAIL}`);
  assert.ok(control.condition === "jid-malformed" || control.condition === "bad-request", `refused: ${control.condition}`);
});

test("a user has at most 20 rooms made by joining, and is told so", async () => {
  // Juliet has one so far (picnic): nineteen more reach the limit.
  for (let i = 0; i < 19; i += 1) {
    const { self } = await join(juliet, `spare-${i}@${EMAIL}`, "Juliet");
    assert.ok(codesOf(self).includes("201"));
  }
  const { condition, text } = await refusedJoin(juliet, `one-too-many@${EMAIL}`);
  assert.equal(condition, "resource-constraint");
  assert.match(text, /already have 20 group chats/);
  // Destroying one frees a place.
  const destroyed = await juliet.iq(xml("iq", { type: "set", to: `spare-0@${EMAIL}` }, xml("query", { xmlns: MUC_OWNER }, xml("destroy", {}))));
  assert.equal(destroyed.attrs.type, "result", destroyed.toString());
  const { self } = await join(juliet, `one-too-many@${EMAIL}`, "Juliet");
  assert.ok(codesOf(self).includes("201"));
});

test("the room survives a restart of the gateway: joined again, with its people, its name and its history", async () => {
  await world.h.stopGateway();
  await world.h.startGateway();
  await eventually(async () => {
    const reply = await juliet.iq(xml("iq", { type: "get", to: `${PICNIC}/Juliet` }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    return reply.getChild("error")?.getChildElements()[0]?.name === "not-acceptable" && reply;
  }, "the restarted gateway answering the self-ping with not-acceptable");
  juliet.received.length = 0;
  const { self, others, subject, messages } = await join(juliet, PICNIC, "Juliet");
  assert.ok(!codesOf(self).includes("201"), "not made again");
  assert.deepEqual(others, ["Romeo Montague", NURSE].sort());
  assert.equal(subject.getChildText("subject"), "picnic");
  const bodies = messages.filter((stanza) => stanza.attrs.from?.startsWith(`${PICNIC}/`)).map((stanza) => stanza.getChildText("body"));
  assert.deepEqual(bodies, ["Picnic on Sunday?", "I bring the bread."]);
});

test("destroying the room ends it: a message to its name gets the contact's error again, and a join makes a new, empty room", async () => {
  const destroyed = await juliet.iq(xml("iq", { type: "set", to: PICNIC }, xml("query", { xmlns: MUC_OWNER }, xml("destroy", {}))));
  assert.equal(destroyed.attrs.type, "result", destroyed.toString());
  await juliet.send(xml("message", { to: PICNIC, type: "chat", id: "gone-1" }, xml("body", {}, "Still there?")));
  const error = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === "gone-1");
  assert.match(error.getChild("error")?.getChildText("text") ?? "", /not an e-mail address/);
  const info = await juliet.iq(xml("iq", { type: "get", to: PICNIC }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
  assert.notEqual(info.getChild("query")?.getChild("identity")?.attrs.category, "conference", "no longer a room");
  juliet.received.length = 0;
  const { self, others } = await join(juliet, PICNIC, "Juliet");
  assert.ok(codesOf(self).includes("201"));
  assert.deepEqual(others, []);
});

test("unregistering removes the rooms the user made by joining, and their names", async () => {
  const count = () => rowsStartingWith(world.h.gateway.store, ["email.rooms", "email.room-history", "email.room-names", "email.room-aliases"], "juliet@");
  assert.ok((await count()) > 0);
  const reply = await juliet.iq(xml("iq", { type: "set", to: EMAIL }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))), 30_000);
  assert.equal(reply.attrs.type, "result", reply.toString());
  assert.equal(await count(), 0);
  const again = await registerEmail(juliet, personalAccount(world, JULIET, { name: "Juliet" }));
  assert.equal(again.attrs.type, "result", again.toString());
  juliet.received.length = 0;
  const { self, others } = await join(juliet, `spare-1@${EMAIL}`, "Juliet");
  assert.ok(codesOf(self).includes("201"), "made anew");
  assert.deepEqual(others, []);
});
