// Group texts through Telnyx as group chats on the SMS component: a group MMS (its other people in
// cc) makes a room and an invitation, the user's answer in the room leaves as one POST
// /v2/messages/group_mms to all of them, and later texts of the same people land in the same room.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { commandsOf, errorFor, errorWords, groupchatIn, groupchatStartingWith, invitedTo, isInvitation } from "../support/groups.js";
import { joinRoom as join, joinSeen, NUMBERS, oobUrl, pause, refusedMessage, startGroup } from "../support/groups.js";
import { xml, type TestClient } from "../support/xmpp-client.js";
import { joinSms, phoneJid, SMS, statusUrl } from "./sms-harness.js";
import { startTelnyxHarness, type TelnyxHarness } from "./telnyx-harness.js";
import { countKeys } from "../support/postgres.js";

const { OURS, ROMEO, NURSE, FRIAR } = NUMBERS;

let s: TelnyxHarness;
let juliet: TestClient;
let room = "";

before(async () => {
  s = await startTelnyxHarness({ numbers: [OURS] });
  juliet = await s.h.login("juliet");
  await joinSms(juliet, { number: OURS });
});
after(async () => {
  await s?.stop();
});

function groupText(from: string, cc: string[], text: string) {
  return s.telnyx.sendInbound({ account: s.operator, from, to: OURS, cc, text });
}

test("the SMS component offers starting a group, as Telnyx carries group texts", async () => {
  assert.ok((await commandsOf(juliet, SMS)).includes("new-group"));
});

test("a group MMS to the user and two others invites the user to a room on the SMS component", async () => {
  const posted = await groupText(ROMEO, [NURSE, FRIAR], "Meet at the cell at noon?");
  assert.equal(posted.status, 200, posted.text);
  const invitation = await juliet.waitFor(isInvitation, 15_000);
  room = invitedTo(invitation);
  assert.match(room, new RegExp(`^thread-[a-z2-7]{32}@${SMS.replaceAll(".", "\\.")}$`));
  const words = invitation.getChildText("body") ?? "";
  assert.match(words, /^A conversation with /, "no mail words for a text");
  for (const number of [ROMEO, NURSE, FRIAR]) assert.ok(words.includes(number), words);
  assert.equal(juliet.messages(phoneJid(ROMEO)).length, 0, "the text does not also come one-to-one");
});

test("joining shows the three numbers as occupants with their contact JIDs, and the text as history", async () => {
  const people = [FRIAR, NURSE, ROMEO].sort();
  const history = [[`${room}/${ROMEO}`, "Meet at the cell at noon?"]];
  assert.deepEqual(await joinSeen(juliet, room, "Juliet"), { nicks: people, jids: people.map(phoneJid), history });
});

test("the user's answer in the room leaves as one group MMS from the user's number to all three", async () => {
  const before = s.telnyx.groupMessages.length;
  const singles = s.telnyx.messages.length;
  await juliet.send(xml("message", { to: room, type: "groupchat", id: "g-1" }, xml("body", {}, "Noon it is.")));
  const echo = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "groupchat" && stanza.attrs.id === "g-1", 10_000);
  assert.equal(echo.attrs.from, `${room}/Juliet`);
  const sent = (await s.telnyx.waitForGroupMessages(before + 1))[before]!;
  assert.equal(sent.from, OURS);
  assert.deepEqual([...sent.to].sort(), [FRIAR, NURSE, ROMEO].sort());
  assert.equal(sent.text, "Noon it is.");
  assert.equal(sent.account, s.operator);
  const request = s.telnyx.requests.filter((entry) => entry.path === "/v2/messages/group_mms").at(-1)!;
  assert.equal(request.status, 200);
  assert.deepEqual(Object.keys(request.body as object).sort(), ["from", "text", "to", "webhook_url"]);
  assert.equal((request.body as { webhook_url: string }).webhook_url, statusUrl(s.h));
  await pause(300);
  assert.equal(s.telnyx.groupMessages.length, before + 1, "sent once");
  assert.equal(s.telnyx.messages.length, singles, "no one-to-one texts besides");
});

test("a later text of the same three, from another of them and listed in another order, lands in the same room", async () => {
  const invitations = juliet.received.filter(isInvitation).length;
  assert.equal((await groupText(NURSE, [FRIAR, ROMEO], "I will bring the ladder.")).status, 200);
  const message = await juliet.waitFor(groupchatIn(room, "I will bring the ladder."), 10_000);
  assert.equal(message.attrs.from, `${room}/${NURSE}`);
  await pause(200);
  assert.equal(juliet.received.filter(isInvitation).length, invitations, "no new room, no new invitation");
});

test("repeated numbers, the user's own number twice and malformed entries still make the same group", async () => {
  const posted = await groupText(FRIAR, ["not a number", NURSE, NURSE, OURS, OURS, "+1", ROMEO, "<script>"], "All of us, then.");
  assert.equal(posted.status, 200, posted.text);
  const message = await juliet.waitFor(groupchatIn(room, "All of us, then."), 10_000);
  assert.equal(message.attrs.from, `${room}/${FRIAR}`);
});

test("a picture in a group MMS arrives in the room as a link, and a file the user sends there leaves as the group MMS's media", async () => {
  const posted = await s.telnyx.sendInbound({
    account: s.operator,
    from: ROMEO,
    to: OURS,
    cc: [NURSE, FRIAR],
    text: "The balcony.",
    media: [{ contentType: "image/png", data: Buffer.from("not really a png") }],
  });
  assert.equal(posted.status, 200, posted.text);
  const message = await juliet.waitFor(groupchatStartingWith(room, "The balcony."), 10_000);
  const link = oobUrl(message);
  assert.match(link, /^http/);
  const fetched = await fetch(link);
  assert.equal(Buffer.from(await fetched.arrayBuffer()).toString(), "not really a png");

  const before = s.telnyx.groupMessages.length;
  await juliet.send(
    xml(
      "message",
      { to: room, type: "groupchat", id: "g-pic" },
      xml("body", {}, "https://upload.example.org/ring.jpg"),
      xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, "https://upload.example.org/ring.jpg")),
    ),
  );
  const sent = (await s.telnyx.waitForGroupMessages(before + 1))[before]!;
  assert.deepEqual(sent.mediaUrls, ["https://upload.example.org/ring.jpg"]);
  assert.deepEqual([...sent.to].sort(), [FRIAR, NURSE, ROMEO].sort());
});

test("Telnyx's report that a group MMS was not delivered comes back as an error from the room", async () => {
  const before = s.telnyx.groupMessages.length;
  await juliet.send(xml("message", { to: room, type: "groupchat", id: "g-lost" }, xml("body", {}, "Did this arrive?")));
  const sent = (await s.telnyx.waitForGroupMessages(before + 1))[before]!;
  assert.equal(await s.telnyx.postGroupStatus(sent.id, "delivery_failed", "40008"), 200);
  const error = await juliet.waitFor(errorFor("g-lost"), 10_000);
  assert.equal(error.attrs.from, room);
  assert.match(errorWords(error), /could not deliver/);
});

test("a text whose cc leaves only its sender besides the user stays one-to-one", async () => {
  assert.equal((await groupText(ROMEO, [OURS, "garbage", ROMEO], "Just you and me.")).status, 200);
  const message = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === phoneJid(ROMEO), 10_000);
  assert.equal(message.attrs.type, "chat");
  assert.equal(message.getChildText("body"), "Just you and me.");
});

test("a webhook listing 200 recipients is refused as malformed, makes no room, and the gateway goes on", async () => {
  const many = Array.from({ length: 200 }, (_, index) => `+1415556${String(index).padStart(4, "0")}`);
  const invitations = juliet.received.filter(isInvitation).length;
  const posted = await groupText(ROMEO, many, "Hello, everyone.");
  assert.equal(posted.status, 400, posted.text);
  await pause(300);
  assert.equal(juliet.received.filter(isInvitation).length, invitations);
  assert.equal((await groupText(ROMEO, [NURSE, FRIAR], "Still here.")).status, 200);
  await juliet.waitFor(groupchatIn(room, "Still here."), 10_000);
});

test("a group of nine others makes a room, and an answer to it is refused with Telnyx's limit of eight, nothing sent", async () => {
  const eight = Array.from({ length: 8 }, (_, index) => `+1415557${String(index).padStart(4, "0")}`);
  assert.equal((await groupText(ROMEO, eight, "A crowd.")).status, 200);
  const invitation = await juliet.waitFor((stanza) => isInvitation(stanza) && invitedTo(stanza) !== room, 15_000);
  const crowd = invitedTo(invitation);
  const { presences } = await join(juliet, crowd, "Juliet");
  assert.equal(presences.filter((presence) => presence.attrs.from !== `${crowd}/Juliet`).length, 9);
  const before = s.telnyx.groupMessages.length;
  const refused = await refusedMessage(juliet, crowd, "g-9", "Too many of us.");
  assert.equal(refused.from, crowd);
  assert.match(refused.words, /at most 8 people/);
  await pause(200);
  assert.equal(s.telnyx.groupMessages.length, before);
});

test("a number Telnyx refuses in a group comes back as an error from the room, with Telnyx's reason", async () => {
  s.telnyx.refuse(NURSE, "40300");
  const refused = await refusedMessage(juliet, room, "g-stop", "Are you there?");
  assert.equal(refused.from, room);
  assert.match(refused.words, /opted out/);
});

test("a group started from XMPP: the first message goes as one group MMS, and the answers come back into that room", async () => {
  const { TYBALT, BENVOLIO } = NUMBERS;
  const started = await startGroup(juliet, SMS, [TYBALT, BENVOLIO], "Truce");
  await join(juliet, started, "Juliet");
  const before = s.telnyx.groupMessages.length;
  await juliet.send(xml("message", { to: started, type: "groupchat", id: "g-new" }, xml("body", {}, "Shall we talk?")));
  const sent = (await s.telnyx.waitForGroupMessages(before + 1))[before]!;
  assert.deepEqual([...sent.to].sort(), [BENVOLIO, TYBALT].sort());
  assert.equal((await groupText(TYBALT, [BENVOLIO], "We shall.")).status, 200);
  const answer = await juliet.waitFor(groupchatIn(started, "We shall."), 10_000);
  assert.equal(answer.attrs.from, `${started}/${TYBALT}`);
});

test("unregistering forgets which rooms the user's group texts answer into", async () => {
  const uri = s.h.config.store.uri;
  const keysOfOurNumber = `group-keys:sms:${OURS},`;
  // The previous test's group, started from XMPP, left a key naming the user's number.
  assert.ok((await countKeys(uri, keysOfOurNumber)) > 0);
  const reply = await juliet.iq(xml("iq", { type: "set", to: SMS }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))), 30_000);
  assert.equal(reply.attrs.type, "result");
  assert.equal(await countKeys(uri, keysOfOurNumber), 0);
});
