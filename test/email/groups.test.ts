// A mail thread with several people as a group chat on the e-mail component (XEP-0045): invited,
// joined, written to (a reply to all), continued, caught up on through MAM. Real Dovecot, a real
// SMTP relay, a real XMPP server, @xmpp/client.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  ADDRESSES,
  archivedBodies,
  type ArchiveQuery,
  isInvitation,
  joinRoom,
  mail,
  MAM,
  MUC,
  MUC_USER,
  queryArchive,
  rowsStartingWith,
  RSM,
} from "../support/groups.js";
import { xml, type Element, type TestClient } from "../support/xmpp-client.js";
import { EMAIL, emailJid, eventually, personalAccount, readMailbox, registerEmail, smtpSend, startWorld, waitForChat, type World } from "./world.js";

const { JULIET, ROMEO, NURSE, FRIAR } = ADDRESSES;

let world: World;
let juliet: TestClient;
let room = "";
let firstMessageId = "";

before(async () => {
  world = await startWorld({ mailboxes: [JULIET, ROMEO, NURSE, FRIAR] });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET, { name: "Juliet" }));
  assert.equal(reply.attrs.type, "result", reply.toString());
});
after(async () => {
  await world?.stop();
});

/** Joins the thread's room as `nick` and collects what the join brings, up to the subject that ends it. */
const join = (client: TestClient, nick: string, history?: Record<string, string>) => joinRoom(client, room, nick, history);

test("a mail to the user and two others becomes a group chat: the user is invited, with the subject as reason", async () => {
  await smtpSend(
    world,
    ROMEO,
    [JULIET, NURSE, FRIAR],
    mail(
      {
        From: "Romeo Montague <romeo@montague.test>",
        To: "Juliet <juliet@capulet.test>, Nurse <nurse@capulet.test>",
        Cc: "Friar Laurence <laurence@friary.test>",
        Subject: "The wedding",
        "Message-ID": "<plan-1@montague.test>",
      },
      "Shall we meet at the cell at noon?",
    ),
  );
  const invitation = await juliet.waitFor(isInvitation, 15_000);
  const x = invitation.getChild("x", "jabber:x:conference")!;
  room = x.attrs.jid ?? "";
  assert.match(room, new RegExp(`^thread-[a-z2-7]+@${EMAIL.replaceAll(".", "\\.")}$`), "a room JID that is no contact's");
  assert.ok(!room.includes("\\40"));
  assert.equal(x.attrs.reason, "The wedding");
  assert.equal(invitation.attrs.from, room);
  assert.equal(juliet.messages(emailJid(ROMEO)).length, 0, "the mail does not also come one-to-one");
});

test("the room says what it is in disco: a persistent, non-anonymous, members-only MUC with MAM", async () => {
  const reply = await juliet.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
  assert.equal(reply.attrs.type, "result", reply.toString());
  const query = reply.getChild("query")!;
  assert.equal(query.getChild("identity")?.attrs.category, "conference");
  const features = query.getChildren("feature").map((feature) => feature.attrs.var);
  for (const feature of [MUC, "muc_nonanonymous", "muc_persistent", "muc_membersonly", MAM]) assert.ok(features.includes(feature), feature);
  const items = await juliet.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/disco#items" })));
  assert.equal(items.attrs.type, "result");
  // The member list, which clients read to show a members-only room's people.
  const members = await juliet.iq(
    xml("iq", { type: "get", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/muc#admin" }, xml("item", { affiliation: "member" }))),
  );
  assert.deepEqual(
    members
      .getChild("query")
      ?.getChildren("item")
      .map((item) => item.attrs.jid)
      .sort(),
    [emailJid(FRIAR), emailJid(NURSE), emailJid(ROMEO)].sort(),
  );
});

test("joining shows the three participants by name, the user as owner (110), the mail as history, then the subject", async () => {
  const { presences, messages, subject } = await join(juliet, "Juliet");
  const others = presences.filter(
    (presence) =>
      !presence
        .getChild("x", MUC_USER)
        ?.getChildren("status")
        .some((status) => status.attrs.code === "110"),
  );
  assert.deepEqual(others.map((presence) => presence.attrs.from?.split("/")[1]).sort(), ["Friar Laurence", "Nurse", "Romeo Montague"]);
  const romeo = others.find((presence) => presence.attrs.from?.endsWith("/Romeo Montague"))!;
  assert.equal(romeo.getChild("x", MUC_USER)?.getChild("item")?.attrs.jid, emailJid(ROMEO), "the real JID is the contact's");
  const self = presences.find((presence) => presence.attrs.from === `${room}/Juliet`)!;
  const codes = self
    .getChild("x", MUC_USER)!
    .getChildren("status")
    .map((status) => status.attrs.code);
  assert.ok(codes.includes("110"));
  assert.equal(self.getChild("x", MUC_USER)?.getChild("item")?.attrs.affiliation, "owner");
  assert.equal(messages.length, 1);
  assert.equal(messages[0]!.attrs.from, `${room}/Romeo Montague`);
  assert.equal(messages[0]!.getChildText("body"), "Shall we meet at the cell at noon?");
  assert.ok(messages[0]!.getChild("stanza-id", "urn:xmpp:sid:0")?.attrs.id);
  assert.equal(subject.getChildText("subject"), "The wedding");
  firstMessageId = "<plan-1@montague.test>";
});

test("what the user writes in the room leaves as one reply to all, with the thread's headers, and is echoed with its ids", async () => {
  const before = world.relay.received.length;
  await juliet.send(
    xml(
      "message",
      { to: room, type: "groupchat", id: "jul-1" },
      xml("body", {}, "Noon it is."),
      xml("origin-id", { xmlns: "urn:xmpp:sid:0", id: "origin-jul-1" }),
    ),
  );
  const echo = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "groupchat" && stanza.attrs.id === "jul-1", 10_000);
  assert.equal(echo.attrs.from, `${room}/Juliet`);
  assert.equal(echo.getChild("origin-id", "urn:xmpp:sid:0")?.attrs.id, "origin-jul-1");
  const relayed = await world.relay.waitForMail(before + 1);
  assert.deepEqual([...relayed.to].sort(), [FRIAR, NURSE, ROMEO], "the envelope names the three others, not the user");
  for (const address of [ROMEO, NURSE, FRIAR]) {
    const found = await eventually(
      async () => (await readMailbox(world, address)).find((entry) => entry.mail.text?.includes("Noon it is."))?.mail,
      `the reply in ${address}'s mailbox`,
    );
    assert.equal(found.inReplyTo, firstMessageId);
    assert.deepEqual([found.references].flat(), [firstMessageId]);
    assert.equal(found.subject, "Re: The wedding");
    assert.deepEqual(found.to && (Array.isArray(found.to) ? found.to : [found.to]).flatMap((to) => to.value.map((value) => value.address)).sort(), [
      NURSE,
      ROMEO,
    ]);
    assert.deepEqual(found.cc && (Array.isArray(found.cc) ? found.cc : [found.cc]).flatMap((cc) => cc.value.map((value) => value.address)), [FRIAR]);
  }
});

test("a correction, a reaction or a deletion in the room is refused, never sent as mail", async () => {
  const before = world.relay.received.length;
  for (const [id, child] of [
    ["fix-1", xml("replace", { xmlns: "urn:xmpp:message-correct:0", id: "jul-1" })],
    ["react-1", xml("reactions", { xmlns: "urn:xmpp:reactions:0", id: "jul-1" }, xml("reaction", {}, "👍"))],
    ["retract-1", xml("retract", { xmlns: "urn:xmpp:message-retract:1", id: "jul-1" })],
  ] as const) {
    await juliet.send(xml("message", { to: room, type: "groupchat", id }, xml("body", {}, "Noon it is, I mean one."), child));
    const refused = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === id);
    assert.equal(refused.getChild("error")?.getChildElements()[0]?.name, "feature-not-implemented");
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(world.relay.received.length, before);
});

test("a later mail of the thread, answering the user's reply, lands in the same room", async () => {
  const reply = (await readMailbox(world, NURSE)).find((entry) => entry.mail.text?.includes("Noon it is."))!.mail;
  await smtpSend(
    world,
    NURSE,
    [JULIET, ROMEO, FRIAR],
    mail(
      {
        From: "Nurse <nurse@capulet.test>",
        To: "Juliet <juliet@capulet.test>, Romeo Montague <romeo@montague.test>",
        Cc: "laurence@friary.test",
        Subject: "Re: The wedding",
        "Message-ID": "<nurse-1@capulet.test>",
        "In-Reply-To": reply.messageId!,
        References: `${firstMessageId} ${reply.messageId}`,
      },
      "I will bring the rope ladder.",
    ),
  );
  const message = await juliet.waitFor(
    (stanza) => stanza.name === "message" && stanza.attrs.type === "groupchat" && stanza.getChildText("body") === "I will bring the rope ladder.",
    15_000,
  );
  assert.equal(message.attrs.from, `${room}/Nurse`);
  assert.equal(juliet.received.filter(isInvitation).length, 0, "no second invitation for the same thread");
});

test("a client offline for three mails gets all three through MAM after joining again, paged by id", async () => {
  const lastSeen = await lastArchiveId(juliet);
  await juliet.send(xml("presence", { to: `${room}/Juliet`, type: "unavailable" }));
  await juliet.stop();
  for (let i = 1; i <= 3; i += 1) {
    await smtpSend(
      world,
      ROMEO,
      [JULIET, NURSE, FRIAR],
      mail(
        {
          From: "Romeo Montague <romeo@montague.test>",
          To: "juliet@capulet.test, nurse@capulet.test, laurence@friary.test",
          Subject: "Re: The wedding",
          "Message-ID": `<away-${i}@montague.test>`,
          References: `${firstMessageId} <nurse-1@capulet.test>`,
          "In-Reply-To": "<nurse-1@capulet.test>",
        },
        `While you were away, ${i}`,
      ),
    );
  }
  await eventually(
    async () => {
      const found = await readMailbox(world, JULIET);
      return found.filter((entry) => entry.mail.messageId?.startsWith("<away-") && entry.flags.has("\\Seen")).length === 3;
    },
    "the three mails taken by the gateway",
    20_000,
  );

  juliet = await world.h.login("juliet", { resource: "back" });
  const { messages } = await join(juliet, "Juliet", { maxstanzas: "0" });
  assert.equal(messages.length, 0, "maxstanzas=0: no history on joining");
  const first = await mam(juliet, { after: lastSeen, max: "2" });
  assert.deepEqual(archivedBodies(first.results), ["While you were away, 1", "While you were away, 2"]);
  assert.equal(first.fin.attrs.complete, undefined, "a page that is not the last says so");
  const rest = await mam(juliet, { after: first.fin.getChild("set", RSM)!.getChildText("last")!, max: "10" });
  assert.deepEqual(archivedBodies(rest.results), ["While you were away, 3"]);
  assert.equal(rest.fin.attrs.complete, "true");
  const last = await mam(juliet, { before: "", max: "2" });
  assert.deepEqual(archivedBodies(last.results), ["While you were away, 2", "While you were away, 3"], "<before/> gives the last page");
  const all = await mam(juliet, { max: "50" });
  assert.equal(all.results.length, 6, "the whole history: the first mail, the user's reply, the nurse's answer and the three");
  const forwarded = all.results[1]!.getChild("result", MAM)!.getChild("forwarded", "urn:xmpp:forward:0")!.getChild("message")!;
  assert.equal(forwarded.attrs.from, `${room}/Juliet`);
  assert.equal(forwarded.attrs.xmlns, "jabber:client", "XEP-0297: the forwarded message is in the client namespace");
  const unknown = await juliet.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: MAM }, xml("set", { xmlns: RSM }, xml("after", {}, "nonsense")))));
  assert.equal(unknown.attrs.type, "error");
  // Counted with the one-to-one messages: the five mails of the thread so far.
  const metrics = await (await fetch(`http://127.0.0.1:${world.h.gateway.httpPort}/metrics`)).text();
  const delivered = metrics
    .split("\n")
    .find(
      (line) =>
        line.startsWith("switchboard_messages_total{") && ['transport="email"', 'direction="in"', 'result="delivered"'].every((label) => line.includes(label)),
    );
  assert.equal(Number(delivered?.split(" ").pop()), 5, delivered);
});

test("a self-ping (XEP-0410) says whether the client is still in the room", async () => {
  const inRoom = await juliet.iq(xml("iq", { type: "get", to: `${room}/Juliet` }, xml("ping", { xmlns: "urn:xmpp:ping" })));
  assert.equal(inRoom.attrs.type, "result");
  const wrongNick = await juliet.iq(xml("iq", { type: "get", to: `${room}/Someone` }, xml("ping", { xmlns: "urn:xmpp:ping" })));
  assert.equal(wrongNick.attrs.type, "error");
});

test("a mail of the thread with an attachment arrives in the room as a link the gateway serves (OOB and in the body)", async () => {
  const png = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
  await smtpSend(
    world,
    FRIAR,
    [JULIET, ROMEO, NURSE],
    [
      "From: Friar Laurence <laurence@friary.test>",
      `To: ${JULIET}, ${ROMEO}, ${NURSE}`,
      "Subject: Re: The wedding",
      "Message-ID: <vial@friary.test>",
      `References: ${firstMessageId} <away-3@montague.test>`,
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
  const message = await juliet.waitFor((stanza) => stanza.attrs.type === "groupchat" && /Take this vial\./.test(stanza.getChildText("body") ?? ""), 15_000);
  assert.equal(message.attrs.from, `${room}/Friar Laurence`);
  const url = message.getChild("x", "jabber:x:oob")?.getChildText("url") ?? "";
  assert.ok((message.getChildText("body") ?? "").includes(url) && url !== "");
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.deepEqual(Buffer.from(await response.arrayBuffer()), png);
  // And a file the user sends to the room goes along with the mail to all.
  await juliet.send(
    xml("message", { to: room, type: "groupchat", id: "jul-file" }, xml("body", {}, url), xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, url))),
  );
  const sent = await eventually(
    async () => (await readMailbox(world, NURSE)).find((entry) => entry.mail.attachments.some((attachment) => attachment.content.equals(png)))?.mail,
    "the file attached to the mail in the Nurse's mailbox",
  );
  assert.equal(sent.subject, "Re: The wedding");
});

test("a mail of the thread that answers only the user lands in the room, and the user's next message still reaches everyone in it", async () => {
  await smtpSend(
    world,
    ROMEO,
    [JULIET],
    mail(
      {
        From: "Romeo Montague <romeo@montague.test>",
        To: JULIET,
        Subject: "Re: The wedding",
        "Message-ID": "<just-you@montague.test>",
        "In-Reply-To": "<away-3@montague.test>",
        References: `${firstMessageId} <away-3@montague.test>`,
      },
      "Between us: bring the ring.",
    ),
  );
  await juliet.waitFor((stanza) => stanza.attrs.type === "groupchat" && stanza.getChildText("body") === "Between us: bring the ring.", 15_000);
  const before = world.relay.received.length;
  await juliet.send(xml("message", { to: room, type: "groupchat", id: "jul-2" }, xml("body", {}, "I will.")));
  const relayed = await world.relay.waitForMail(before + 1);
  assert.deepEqual([...relayed.to].sort(), [FRIAR, NURSE, ROMEO]);
  const raw = relayed.raw.toString("latin1");
  assert.match(raw, /^To: Romeo|^To: romeo@montague\.test/m, "To: the one who wrote");
  assert.match(raw, /^In-Reply-To: <just-you@montague\.test>\r?$/m);
  assert.match(raw, /^Cc: .*nurse@capulet\.test/m);
});

test("with the policy 'only mail from addresses I wrote to', a stranger's thread makes no room, but the mail of a room the user has comes in", async () => {
  const command = async (text: string): Promise<void> => {
    await juliet.send(xml("message", { to: EMAIL, type: "chat" }, xml("body", {}, text)));
    await juliet.waitFor(
      (stanza) => stanza.name === "message" && stanza.attrs.from === EMAIL && /Which mail to forward/.test(stanza.getChildText("body") ?? ""),
    );
  };
  await command("set spam=known");
  try {
    await smtpSend(
      world,
      "stranger@rosaline.test",
      [JULIET, FRIAR],
      mail(
        { From: "stranger@rosaline.test", To: `${JULIET}, ${FRIAR}`, Subject: "Hello both", "Message-ID": "<stranger-group@rosaline.test>" },
        "Who are you?",
      ),
    );
    await smtpSend(
      world,
      NURSE,
      [JULIET, ROMEO, FRIAR],
      mail(
        {
          From: "Nurse <nurse@capulet.test>",
          To: `${JULIET}, ${ROMEO}, ${FRIAR}`,
          Subject: "Re: The wedding",
          "Message-ID": "<nurse-2@capulet.test>",
          References: `${firstMessageId} <nurse-1@capulet.test>`,
        },
        "The ladder is ready.",
      ),
    );
    await juliet.waitFor((stanza) => stanza.attrs.type === "groupchat" && stanza.getChildText("body") === "The ladder is ready.", 15_000);
    const stranger = (await readMailbox(world, JULIET)).find((entry) => entry.mail.messageId === "<stranger-group@rosaline.test>");
    assert.equal(stranger?.flags.has("\\Seen"), false, "the stranger's mail stays unread");
    assert.equal(juliet.received.filter(isInvitation).length, 0, "no room for the stranger's thread");
  } finally {
    await command("set spam=all");
  }
});

test("a restart of the gateway tells joined clients (status 332); a self-ping afterwards says to join again, and the join works", async () => {
  await world.h.stopGateway();
  const shutdown = await juliet.waitFor(
    (stanza) => stanza.name === "presence" && stanza.attrs.type === "unavailable" && stanza.attrs.from === `${room}/Juliet`,
  );
  assert.ok(
    shutdown
      .getChild("x", MUC_USER)
      ?.getChildren("status")
      .some((status) => status.attrs.code === "332"),
  );
  await world.h.startGateway();
  const ping = await eventually(async () => {
    const reply = await juliet.iq(xml("iq", { type: "get", to: `${room}/Juliet` }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    // While the component is still connecting, the server answers for it with other errors.
    return reply.getChild("error")?.getChildElements()[0]?.name === "not-acceptable" && reply;
  }, "the restarted gateway answering the self-ping with not-acceptable");
  assert.equal(ping.attrs.type, "error");
  const { subject } = await join(juliet, "Juliet", { maxstanzas: "0" });
  assert.equal(subject.getChildText("subject"), "The wedding");
});

test("a join from a resource that is already in (a client that reconnected) gets the whole join again; a plain presence only its own", async () => {
  const again = await join(juliet, "Juliet", { maxstanzas: "1" });
  assert.equal(again.presences.filter((presence) => presence.attrs.from !== `${room}/Juliet`).length, 3);
  assert.equal(again.messages.length, 1);
  await juliet.send(xml("presence", { to: `${room}/Juliet` }, xml("show", {}, "away")));
  const self = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === `${room}/Juliet` && !stanza.attrs.type);
  assert.ok(
    self
      .getChild("x", MUC_USER)
      ?.getChildren("status")
      .some((status) => status.attrs.code === "110"),
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(juliet.received.filter((stanza) => stanza.name === "presence" && stanza.attrs.from?.startsWith(`${room}/`)).length, 0, "no occupant list again");
});

test("joining with a participant's nick is refused as a conflict; a room of someone else's thread is not found", async () => {
  await juliet.send(xml("presence", { to: `${room}/Nurse` }, xml("x", { xmlns: MUC })));
  const refused = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "error" && stanza.attrs.from === `${room}/Nurse`);
  assert.equal(refused.getChild("error")?.getChildElements()[0]?.name, "conflict");
  const other = `thread-${"a".repeat(32)}@${EMAIL}`;
  await juliet.send(xml("presence", { to: `${other}/Juliet` }, xml("x", { xmlns: MUC })));
  const missing = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "error" && stanza.attrs.from === `${other}/Juliet`);
  assert.equal(missing.getChild("error")?.getChildElements()[0]?.name, "item-not-found");
});

test("leaving for good (destroying the room) tells the joined client, and later mail of the thread stays unread in the mailbox", async () => {
  const reply = await juliet.iq(
    xml("iq", { type: "set", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" }, xml("destroy", {}, xml("reason", {}, "mute")))),
  );
  assert.equal(reply.attrs.type, "result", reply.toString());
  const gone = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "unavailable" && stanza.attrs.from === `${room}/Juliet`);
  assert.ok(gone.getChild("x", MUC_USER)?.getChild("destroy"));
  await smtpSend(
    world,
    ROMEO,
    [JULIET, NURSE],
    mail(
      {
        From: "Romeo Montague <romeo@montague.test>",
        To: "juliet@capulet.test, nurse@capulet.test",
        Subject: "Re: The wedding",
        "Message-ID": "<after-leaving@montague.test>",
        References: `${firstMessageId} <nurse-1@capulet.test>`,
      },
      "Are you still there?",
    ),
  );
  const left = await eventually(
    async () => (await readMailbox(world, JULIET)).find((entry) => entry.mail.messageId === "<after-leaving@montague.test>"),
    "the mail in Juliet's mailbox",
  );
  // A one-to-one mail after it: once it arrives, the gateway has handled the one before (mail is read in order).
  await smtpSend(world, ROMEO, [JULIET], mail({ From: ROMEO, To: JULIET, Subject: "Other", "Message-ID": "<marker@montague.test>" }, "Just you"));
  await waitForChat(juliet, ROMEO, (body) => body === "Just you", 15_000);
  assert.equal(((await readMailbox(world, JULIET)).find((entry) => entry.uid === left.uid)?.flags ?? new Set()).has("\\Seen"), false, "left unread");
  assert.equal(juliet.received.filter((stanza) => stanza.name === "message" && stanza.getChildText("body") === "Are you still there?").length, 0);
  assert.equal(juliet.received.filter(isInvitation).length, 0);
  await juliet.send(xml("presence", { to: `${room}/Juliet` }, xml("x", { xmlns: MUC })));
  const refused = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "error" && stanza.attrs.from === `${room}/Juliet`);
  assert.equal(refused.getChild("error")?.getChildElements()[0]?.name, "item-not-found");
});

test("unregistering removes the user's rooms and their history", async () => {
  const count = () => rowsStartingWith(world.h.gateway.store, ["email.rooms", "email.room-history", "email.room-sources"], "juliet@");
  assert.ok((await count()) > 0);
  const reply = await juliet.iq(xml("iq", { type: "set", to: EMAIL }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))), 30_000);
  assert.equal(reply.attrs.type, "result", reply.toString());
  assert.equal(await count(), 0);
});

/** A page of the room's archive; the query must succeed. */
async function mam(client: TestClient, rsm: ArchiveQuery & { max: string }): Promise<{ results: Element[]; fin: Element }> {
  const { reply, results, fin } = await queryArchive(client, room, rsm);
  assert.equal(reply.attrs.type, "result", reply.toString());
  return { results, fin: fin! };
}

/** The archive id of the newest message the client has (its stanza-id), as a client keeps it. */
async function lastArchiveId(client: TestClient): Promise<string> {
  const { fin } = await mam(client, { before: "", max: "1" });
  return fin.getChild("set", RSM)!.getChildText("last")!;
}
