// What a user does to a mail thread's group chat from XMPP beyond writing in it, and how its
// nicks follow the mail: one person's messages from the archive (XEP-0313 `with`), a new subject,
// a name learnt later, an invitation. Real Dovecot, a real SMTP relay, a real XMPP server, @xmpp/client.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ADDRESSES, joinRoom, mail, MAM, MUC_USER, queryArchive } from "../support/groups.js";
import { xml, type Element, type TestClient } from "../support/xmpp-client.js";
import { EMAIL, emailJid, eventually, personalAccount, registerEmail, smtpSend, startWorld, type World } from "./world.js";

const { JULIET, ROMEO, NURSE, FRIAR, TYBALT, BENVOLIO } = ADDRESSES;
const DATA = "jabber:x:data";

let world: World;
let juliet: TestClient;
let room = "";

const fromRoom = (stanza: Element): boolean => stanza.attrs.from?.split("/")[0] === room;
const groupchat = (body: string) => (stanza: Element) => stanza.attrs.type === "groupchat" && fromRoom(stanza) && stanza.getChildText("body") === body;

before(async () => {
  world = await startWorld({ mailboxes: [JULIET, ROMEO, NURSE, FRIAR, TYBALT, BENVOLIO] });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET, { name: "Juliet" }));
  assert.equal(reply.attrs.type, "result", reply.toString());
  // The nurse is named by her bare address only: her nick is her address until a mail names her.
  await smtpSend(
    world,
    ROMEO,
    [JULIET, NURSE, FRIAR],
    mail(
      {
        From: "Romeo Montague <romeo@montague.test>",
        To: `Juliet <juliet@capulet.test>, ${NURSE}`,
        Cc: "Friar Laurence <laurence@friary.test>",
        Subject: "The wedding",
        "Message-ID": "<xmpp-side-1@montague.test>",
      },
      "Noon, at the cell?",
    ),
  );
  const invitation = await juliet.waitFor((stanza) => stanza.getChild("x", "jabber:x:conference") !== undefined, 15_000);
  room = invitation.getChild("x", "jabber:x:conference")!.attrs.jid!;
  await joinRoom(juliet, room, "Juliet", { maxstanzas: "0" });
});
after(async () => {
  await world?.stop();
});

/** The mail the relay took that holds `text` (the relay also carries the tests' own mails). */
function relayed(text: string): Promise<{ raw: Buffer; to: string[] }> {
  return eventually(async () => world.relay.received.find((entry) => entry.raw.toString("utf8").includes(text)), `a mail with "${text}"`, 15_000);
}

/** The room's archive filtered by `with` (XEP-0313), which may be refused. */
const mamWith = (client: TestClient, withJid: string) => queryArchive(client, room, { with: withJid });

test("the archive filtered by `with` gives one person's messages, by occupant JID or contact JID, and refuses what is no JID", async () => {
  await smtpSend(
    world,
    NURSE,
    [JULIET, ROMEO, FRIAR],
    mail(
      {
        From: NURSE,
        To: `${JULIET}, ${ROMEO}`,
        Cc: FRIAR,
        Subject: "Re: The wedding",
        "Message-ID": "<xmpp-side-2@capulet.test>",
        "In-Reply-To": "<xmpp-side-1@montague.test>",
        References: "<xmpp-side-1@montague.test>",
      },
      "I will bring the ladder.",
    ),
  );
  await juliet.waitFor(groupchat("I will bring the ladder."), 15_000);
  await juliet.send(xml("message", { to: room, type: "groupchat", id: "mine-1" }, xml("body", {}, "Noon it is.")));
  await juliet.waitFor((stanza) => stanza.attrs.type === "groupchat" && stanza.attrs.id === "mine-1");

  const form = await juliet.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: MAM })));
  const fields = form.getChild("query", MAM)?.getChild("x", DATA)?.getChildren("field") ?? [];
  assert.ok(
    fields.some((field) => field.attrs.var === "with"),
    "the form lists with",
  );

  const romeo = await mamWith(juliet, `${room}/Romeo Montague`);
  assert.equal(romeo.reply.attrs.type, "result", romeo.reply.toString());
  assert.deepEqual(romeo.bodies, ["Noon, at the cell?"]);
  assert.equal(romeo.count, "1");
  assert.deepEqual((await mamWith(juliet, emailJid(NURSE))).bodies, ["I will bring the ladder."]);
  assert.deepEqual((await mamWith(juliet, emailJid(ROMEO))).bodies, ["Noon, at the cell?"]);
  assert.deepEqual((await mamWith(juliet, `${room}/Juliet`)).bodies, ["Noon it is."], "the user's own nick gives the user's messages");
  assert.deepEqual((await mamWith(juliet, "juliet@example.test")).bodies, ["Noon it is."]);
  assert.deepEqual((await mamWith(juliet, room)).bodies, ["Noon, at the cell?", "I will bring the ladder.", "Noon it is."]);

  const stranger = await mamWith(juliet, emailJid(TYBALT));
  assert.equal(stranger.reply.attrs.type, "result");
  assert.deepEqual(stranger.bodies, [], "someone who is not in the room has no messages here");
  assert.equal(stranger.count, "0");

  for (const bad of ["not a jid", `<script>@${EMAIL}`, `no-address@${EMAIL}`, `${room}/`]) {
    const refused = await mamWith(juliet, bad);
    assert.equal(refused.reply.attrs.type, "error", bad);
    assert.ok(refused.reply.getChild("error")?.getChild("bad-request"), refused.reply.toString());
    assert.match(refused.reply.getChild("error")?.getChildText("text") ?? "", /with field/);
    assert.deepEqual(refused.bodies, []);
  }
});

test("the user changes the subject: every joined session sees it, the next mail carries it, a late answer to the old one does not undo it", async () => {
  const phone = await world.h.login("juliet", { resource: "phone" });
  try {
    await joinRoom(phone, room, "Juliet", { maxstanzas: "0" });

    await juliet.send(xml("message", { to: room, type: "groupchat", id: "subject-1" }, xml("subject", {}, "The wedding,\n\tmoved\u202E to Friday\u200B")));
    for (const client of [juliet, phone]) {
      const told = await client.waitFor((stanza) => fromRoom(stanza) && stanza.getChild("subject") !== undefined);
      assert.equal(told.getChildText("subject"), "The wedding, moved to Friday", "controls and bidi overrides are left out");
      assert.equal(told.attrs.from, `${room}/Juliet`, "from the nick that changed it");
    }
    const info = await juliet.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    assert.equal(info.getChild("query")?.getChild("identity")?.attrs.name, "The wedding, moved to Friday");

    await juliet.send(xml("message", { to: room, type: "groupchat", id: "friday-1" }, xml("body", {}, "Friday then.")));
    const first = await relayed("Friday then.");
    assert.match(first.raw.toString("latin1"), /^Subject: The wedding, moved to Friday\r?$/im, "the new subject, without Re:");

    // Romeo answers an older mail, under the old subject: the room keeps the new one.
    await smtpSend(
      world,
      ROMEO,
      [JULIET, NURSE, FRIAR],
      mail(
        {
          From: "Romeo Montague <romeo@montague.test>",
          To: `${JULIET}, ${NURSE}`,
          Cc: FRIAR,
          Subject: "Re: The wedding",
          "Message-ID": "<xmpp-side-3@montague.test>",
          "In-Reply-To": "<xmpp-side-1@montague.test>",
          References: "<xmpp-side-1@montague.test>",
        },
        "Friday is fine.",
      ),
    );
    await phone.waitFor(groupchat("Friday is fine."), 15_000);
    const still = await juliet.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    assert.equal(still.getChild("query")?.getChild("identity")?.attrs.name, "The wedding, moved to Friday");
    assert.equal(phone.received.filter((stanza) => fromRoom(stanza) && stanza.getChild("subject")).length, 0, "no subject change back");

    await juliet.send(xml("message", { to: room, type: "groupchat", id: "friday-2" }, xml("body", {}, "See you Friday.")));
    const second = await relayed("See you Friday.");
    assert.match(second.raw.toString("latin1"), /^Subject: Re: The wedding, moved to Friday\r?$/im);

    for (const [subject, expected] of [
      ["x".repeat(100_000), /at most 500 characters/],
      [" \u200B ", /needs a subject/],
    ] as const) {
      await juliet.send(xml("message", { to: room, type: "groupchat", id: "bad-subject" }, xml("subject", {}, subject)));
      const refused = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "bad-subject");
      assert.match(refused.getChild("error")?.getChildText("text") ?? "", expected);
    }
    const after = await juliet.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    assert.equal(after.getChild("query")?.getChild("identity")?.attrs.name, "The wedding, moved to Friday", "a refused subject changes nothing");
    assert.equal(phone.received.filter((stanza) => fromRoom(stanza) && stanza.getChild("subject")).length, 0);
  } finally {
    await phone.stop();
  }
});

test("someone first seen as a bare address takes the name a later mail gives them as their nick (status 303), unless that nick is taken", async () => {
  // What the join brought is not what this mail brings.
  juliet.received.splice(0, juliet.received.length, ...juliet.received.filter((stanza) => stanza.name !== "presence"));
  await smtpSend(
    world,
    NURSE,
    [JULIET, ROMEO, FRIAR, TYBALT],
    mail(
      {
        From: "Nurse Angelica <nurse@capulet.test>",
        To: `${JULIET}, Romeo Montague <${ROMEO}>`,
        Cc: `${FRIAR}, ${TYBALT}`,
        Subject: "Re: The wedding, moved to Friday",
        "Message-ID": "<xmpp-side-4@capulet.test>",
        "In-Reply-To": "<xmpp-side-3@montague.test>",
        References: "<xmpp-side-1@montague.test> <xmpp-side-3@montague.test>",
      },
      "The ladder is ready.",
    ),
  );
  const message = await juliet.waitFor(groupchat("The ladder is ready."), 15_000);
  assert.equal(message.attrs.from, `${room}/Nurse Angelica`, "her message comes from her new nick");
  const presences = juliet.received.filter((stanza) => stanza.name === "presence" && fromRoom(stanza));
  const left = presences.find((stanza) => stanza.attrs.from === `${room}/${NURSE}`);
  assert.ok(left, "the old nick leaves");
  assert.equal(left.attrs.type, "unavailable");
  const x = left.getChild("x", MUC_USER)!;
  assert.ok(x.getChildren("status").some((status) => status.attrs.code === "303"));
  assert.equal(x.getChild("item")?.attrs.nick, "Nurse Angelica");
  const came = presences.find((stanza) => stanza.attrs.from === `${room}/Nurse Angelica`);
  assert.ok(came && !came.attrs.type, "the new nick comes");
  assert.ok(presences.indexOf(left) < presences.indexOf(came), "the old nick leaves first");
  assert.equal(came.getChild("x", MUC_USER)?.getChild("item")?.attrs.jid, emailJid(NURSE));
  assert.ok(
    presences.some((stanza) => stanza.attrs.from === `${room}/${TYBALT}` && !stanza.attrs.type),
    "Tybalt, new and named by address, joins under it",
  );
  juliet.received.splice(0, juliet.received.length, ...juliet.received.filter((stanza) => !presences.includes(stanza)));
  assert.deepEqual(
    (await mamWith(juliet, `${room}/Nurse Angelica`)).bodies,
    ["I will bring the ladder.", "The ladder is ready."],
    "her messages under either nick",
  );

  // A name that is the user's own nick would make two Juliets: Tybalt keeps his address.
  await smtpSend(
    world,
    TYBALT,
    [JULIET, ROMEO, NURSE, FRIAR],
    mail(
      {
        From: `Juliet <${TYBALT}>`,
        To: `${JULIET}, ${ROMEO}, ${NURSE}`,
        Cc: FRIAR,
        Subject: "Re: The wedding, moved to Friday",
        "Message-ID": "<xmpp-side-5@capulet.test>",
        "In-Reply-To": "<xmpp-side-4@capulet.test>",
        References: "<xmpp-side-1@montague.test> <xmpp-side-4@capulet.test>",
      },
      "I am no Juliet.",
    ),
  );
  const tybalt = await juliet.waitFor(groupchat("I am no Juliet."), 15_000);
  assert.equal(tybalt.attrs.from, `${room}/${TYBALT}`);
  assert.equal(juliet.received.filter((stanza) => stanza.name === "presence" && fromRoom(stanza) && stanza.attrs.type === "unavailable").length, 0);
});

test("the user invites an e-mail contact into the room (a mediated invitation): an occupant appears and the next mail goes to them too", async () => {
  const invite = (to: string, id: string) =>
    xml("message", { to: room, id }, xml("x", { xmlns: "http://jabber.org/protocol/muc#user" }, xml("invite", { to }, xml("reason", {}, "Join us"))));
  juliet.received.splice(0, juliet.received.length, ...juliet.received.filter((stanza) => stanza.name !== "presence"));
  await juliet.send(invite(emailJid(BENVOLIO), "invite-1"));
  const occupant = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === `${room}/${BENVOLIO}`);
  assert.equal(occupant.attrs.type, undefined);
  assert.equal(occupant.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("item")?.attrs.jid, emailJid(BENVOLIO));

  await juliet.send(xml("message", { to: room, type: "groupchat", id: "welcome-1" }, xml("body", {}, "Welcome, cousin.")));
  const sent = await relayed("Welcome, cousin.");
  assert.deepEqual([...sent.to].sort(), [BENVOLIO, FRIAR, NURSE, ROMEO, TYBALT]);
  assert.match(sent.raw.toString("latin1"), /^Cc: .*benvolio@montague\.test/im);

  // Inviting the same person again changes nothing; JIDs that are no e-mail contact here are refused.
  await juliet.send(invite(emailJid(BENVOLIO), "invite-again"));
  for (const [to, id] of [
    ["juliet@example.test", "invite-user"],
    [room, "invite-room"],
    [`${emailJid(ROMEO)}/phone`, "invite-resource"],
    [`not-an-address@${EMAIL}`, "invite-bad"],
    ["", "invite-empty"],
  ] as const) {
    await juliet.send(invite(to, id));
    const refused = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === id);
    assert.ok(refused.getChild("error")?.getChild("bad-request"), refused.toString());
    assert.match(refused.getChild("error")?.getChildText("text") ?? "", /is not a contact of .*Nobody was invited/);
  }
  const members = await juliet.iq(
    xml("iq", { type: "get", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/muc#admin" }, xml("item", { affiliation: "member" }))),
  );
  const jids = members
    .getChild("query")!
    .getChildren("item")
    .map((item) => item.attrs.jid)
    .sort();
  assert.deepEqual(jids, [BENVOLIO, FRIAR, NURSE, ROMEO, TYBALT].map(emailJid).sort(), "Benvolio once, and nobody else added");
  assert.equal(juliet.received.filter((stanza) => stanza.name === "presence" && stanza.attrs.from === `${room}/${BENVOLIO}`).length, 0);
});
