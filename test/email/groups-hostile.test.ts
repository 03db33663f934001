// Hostile names and subjects in a group mail: nicks are made safe and unique, and the worst strings
// go through the real XMPP server without breaking the room or the component's stream.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { GatewayError } from "../../src/errors.js";
import { cleanNick, uniqueNick } from "../../src/gateway/groups/nicks.js";
import { roomName } from "../../src/gateway/groups/room-name.js";
import { xml, type Element, type TestClient } from "../support/xmpp-client.js";
import { EMAIL, personalAccount, registerEmail, smtpSend, startWorld, type World } from "./world.js";

const JULIET = "juliet@capulet.test";
const MUC = "http://jabber.org/protocol/muc";

test("display names become nicks without controls, slashes, bidi overrides or excess length", () => {
  assert.equal(cleanNick("Romeo\u0000 \u0007Montague\r\n"), "Romeo Montague");
  assert.equal(cleanNick("a/b//c"), "a b c");
  assert.equal(cleanNick("\u202EevilGOD\u202C"), "evilGOD");
  assert.equal(cleanNick("\u200B\u2060"), undefined);
  assert.equal(Array.from(cleanNick("x".repeat(5_000))!).length, 48);
  assert.equal(cleanNick("\"'Quoted'\""), "Quoted");
  // Strict servers refuse code points Unicode 3.2 did not assign (most emoji) in a JID.
  assert.equal(cleanNick("🦄 Unicorn 🦄"), "Unicorn");
  assert.equal(cleanNick("☀ Sun"), "☀ Sun");
  // Right-to-left text is a nick on its own; mixed with left-to-right letters it breaks resourceprep.
  assert.equal(cleanNick("أحمد"), "أحمد");
  assert.equal(cleanNick("Ahmed أحمد"), undefined);
  assert.equal(uniqueNick("Ahmed أحمد", "ahmed@example.test", []), "ahmed@example.test");
  assert.equal(uniqueNick("Twin", "a@x.test", ["twin"]), "a@x.test");
  assert.equal(uniqueNick("Twin", "a@x.test", ["twin", "a@x.test", "a"]), "Twin (2)");
  assert.equal(uniqueNick("أحمد", "a@x.test", ["أحمد", "a@x.test", "a"]), "participant 2");
  assert.equal(uniqueNick(undefined, "\u0000@x.test", []), "@x.test");
});

test("a room name nodeprep refuses is a bad-request, as a strict server answers; what it allows but a name should not hold, not-acceptable", () => {
  const refusal = (name: string): { condition: string; message: string } => {
    try {
      roomName(name);
    } catch (error) {
      assert.ok(error instanceof GatewayError, String(error));
      return { condition: error.condition, message: error.message };
    }
    assert.fail(`${JSON.stringify(name)} was taken`);
  };
  // Unassigned in Unicode 3.2 (isolates, invisible plus, emoji), stringprep's prohibited characters,
  // nodeprep's own ASCII, and right-to-left text mixed with left-to-right letters.
  for (const name of [
    "left\u2066to\u2069right",
    "invisible\u2064plus",
    "🦄",
    "rlo\u202Eevil",
    "nbsp\u00A0name",
    "word\u2060joiner",
    "a b",
    "a@b",
    "ahmedأحمد",
  ]) {
    const { condition, message } = refusal(name);
    assert.equal(condition, "bad-request", JSON.stringify(name));
    assert.match(message, /not a valid address/, JSON.stringify(name));
  }
  assert.deepEqual(refusal("a".repeat(65)), {
    condition: "not-acceptable",
    message: "A group chat's name here has at most 64 characters; this one has 65. Choose a shorter name.",
  });
  assert.equal(refusal("soft\u00ADhyphen").condition, "not-acceptable", "assigned in 3.2, allowed by nodeprep, but invisible");
  assert.equal(refusal("pipe|name").condition, "not-acceptable");
  assert.equal(refusal("back\\slash").condition, "not-acceptable");
  for (const name of ["picnic", "a".repeat(64), "☀-sun", "أحمد", "café"]) assert.equal(roomName(name), name);
});

let world: World;
let juliet: TestClient;

before(async () => {
  world = await startWorld({ mailboxes: [JULIET] });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET));
  assert.equal(reply.attrs.type, "result", reply.toString());
});
after(async () => {
  await world?.stop();
});

/** An RFC 2047 encoded word: how a mail carries any text, controls included, in a header. */
const encoded = (text: string): string => `=?utf-8?B?${Buffer.from(text).toString("base64")}?=`;

test("the worst names and subjects in a mail thread do not break the room, the join or the stream", async () => {
  const names = [
    "Evil/\u0007Name\u0000",
    `Long ${"ł".repeat(600)}`,
    "Ahmed أحمد",
    "\u202E\u200B",
    "Twin",
    "Twin",
    "]]></presence><presence type='unavailable'/>&amp;",
    "🦄 Unicorn 🦄",
  ];
  const recipients = names.map((name, i) => `${encoded(name)} <p${i}@elsewhere.test>`);
  const subject = `Plans <b>\u0001\u0008 ${"s".repeat(600)} \uFFFE`;
  await smtpSend(
    world,
    "p0@elsewhere.test",
    [JULIET],
    [
      `From: ${recipients[0]}`,
      `To: ${JULIET}, ${recipients.slice(1, 5).join(", ")}`,
      `Cc: ${recipients.slice(5).join(", ")}`,
      `Subject: ${encoded(subject)}`,
      "Message-ID: <hostile-1@elsewhere.test>",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.from("Body with \u0000 nul, \u001b escape and \uFFFF non-character </body>").toString("base64"),
      "",
    ].join("\n"),
  );
  const invitation = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.getChild("x", "jabber:x:conference") !== undefined, 15_000);
  const room = invitation.getChild("x", "jabber:x:conference")!.attrs.jid!;
  assert.ok(room.endsWith(`@${EMAIL}`));

  await juliet.send(xml("presence", { to: `${room}/Juliet` }, xml("x", { xmlns: MUC })));
  const subjectMessage = await juliet.waitFor(
    (stanza) => stanza.name === "message" && stanza.attrs.from === room && stanza.getChild("subject") !== undefined,
    10_000,
  );
  assert.ok(subjectMessage.getChildText("subject")!.startsWith("Plans <b>"));
  assert.ok(!/[\u0000-\u0008]/.test(subjectMessage.getChildText("subject")!));
  const presences = juliet.received.filter((stanza: Element) => stanza.name === "presence" && stanza.attrs.from?.startsWith(`${room}/`));
  const nicks = presences.map((presence) => presence.attrs.from!.slice(room.length + 1)).filter((nick) => nick !== "Juliet");
  assert.equal(nicks.length, names.length, `every participant is an occupant: ${JSON.stringify(nicks)}`);
  assert.equal(new Set(nicks.map((nick) => nick.toLowerCase())).size, nicks.length, "nicks are unique");
  for (const nick of nicks) {
    assert.ok(!/[\u0000-\u001f\u007f/\u202a-\u202e\u200b]/.test(nick), JSON.stringify(nick));
    assert.ok(Array.from(nick).length <= 48, nick);
  }
  assert.ok(nicks.includes("Unicorn"));
  assert.ok(nicks.includes("p2@elsewhere.test"), "a name that breaks the bidi rule gives way to the address");
  const history = juliet.received.find((stanza) => stanza.name === "message" && stanza.attrs.type === "groupchat" && stanza.getChild("body"));
  assert.equal(history?.getChildText("body"), "Body with  nul,  escape and  non-character </body>");
  // The configuration form carries the subject as the room's name, cleaned, and sent back as shown
  // it is accepted.
  const OWNER = "http://jabber.org/protocol/muc#owner";
  const asked = await juliet.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: OWNER })));
  assert.equal(asked.attrs.type, "result", asked.toString());
  const fields = asked.getChild("query", OWNER)!.getChild("x", "jabber:x:data")!.getChildren("field");
  const shown = fields.map((field) => [field.attrs.var!, field.getChildText("value") ?? ""] as const);
  const name = shown.find(([field]) => field === "muc#roomconfig_roomname")![1];
  assert.ok(name.startsWith("Plans <b>"), name);
  assert.ok(!/[\u0000-\u0008\uFFFE]/.test(name), JSON.stringify(name));
  const sentBack = await juliet.iq(
    xml(
      "iq",
      { type: "set", to: room },
      xml(
        "query",
        { xmlns: OWNER },
        xml("x", { xmlns: "jabber:x:data", type: "submit" }, ...shown.map(([field, value]) => xml("field", { var: field }, xml("value", {}, value)))),
      ),
    ),
  );
  assert.equal(sentBack.attrs.type, "result", sentBack.toString());
  // The component's stream is still up: the room still answers.
  const info = await juliet.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
  assert.equal(info.attrs.type, "result");
});
