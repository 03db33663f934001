// Group texts through Twilio as group chats on the SMS component. Twilio carries group MMS only
// through its Conversations API: a member's group text lands in a Conversation (autocreated, or one
// the gateway made), whose onMessageAdded webhook (signed like any Twilio webhook) brings it into a
// room; the user's answer in the room leaves as one Conversations message authored by the user's
// number, which is the conversation's projected address. Everything runs against the Twilio stand-in
// through the real `twilio` SDK, with a real Prosody and a real Jabber client.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { commandsOf, errorFor, errorWords, groupchatIn, groupchatStartingWith, invitedTo, isInvitation } from "../support/groups.js";
import { joinRoom as join, joinSeen, NUMBERS, oobUrl, pause, refusedMessage, startGroup } from "../support/groups.js";
import { xml, type Element, type TestClient } from "../support/xmpp-client.js";
import type { StandinConversation } from "../support/twilio-standin.js";
import { countKeys } from "../support/postgres.js";
import { incomingUrl, joinSms, phoneJid, SMS, startSmsHarness, statusUrl, type SmsHarness } from "./sms-harness.js";

const { OURS, ROMEO, NURSE, FRIAR, TYBALT, BENVOLIO } = NUMBERS;

let s: SmsHarness;
let juliet: TestClient;
/** The room of the group text Romeo started, and the room of the one Juliet started from XMPP. */
let room = "";
let started = "";

before(async () => {
  s = await startSmsHarness({ numbers: [OURS] });
  // Conversations > Global webhooks, post-event URL: the incoming URL, as docs/sms.md says.
  s.operator.conversationsWebhookUrl = incomingUrl(s.h);
  juliet = await s.h.login("juliet");
  await joinSms(juliet, { number: OURS });
});
after(async () => {
  await s?.stop();
});

/** The stand-in's API calls on the Conversations API, by method and path pattern. */
const calls = (method: string, path: RegExp) => s.twilio.requests.filter((entry) => entry.method === method && path.test(entry.path));
const conversationsMade = () => calls("POST", /^\/v1\/Conversations$/).length;
/** The Conversations messages Twilio took (answered 201). */
const conversationMessages = () => calls("POST", /^\/v1\/Conversations\/CH\w+\/Messages$/).filter((entry) => entry.status === 201);
const numbersIn = (conversation: StandinConversation) => ({
  members: conversation.participants.flatMap((participant) => (participant.address ? [participant.address] : [])).sort(),
  projected: conversation.participants.flatMap((participant) => (participant.projectedAddress ? [participant.projectedAddress] : [])),
});

function groupText(
  from: string,
  others: string[],
  body: string,
  extra: { signature?: "valid" | "forged" | "missing"; media?: Array<{ contentType: string; data: Buffer }> } = {},
) {
  return s.twilio.groupInbound({ accountSid: s.operator.sid, from, to: OURS, others, body, ...extra });
}

/** A webhook with these fields, signed with the operator's token, to the incoming URL. */
async function postEvent(fields: Record<string, string>): Promise<number> {
  return (await s.twilio.postSigned(incomingUrl(s.h), s.operator.authToken, { AccountSid: s.operator.sid, ...fields })).status;
}

async function say(jid: string, id: string, body: string, ...children: Element[]): Promise<void> {
  await juliet.send(xml("message", { to: jid, type: "groupchat", id }, xml("body", {}, body), ...children));
  await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "groupchat" && stanza.attrs.id === id, 10_000);
}

async function waitForMessages(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (conversationMessages().length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} Conversations messages, have ${conversationMessages().length}`);
    await pause(20);
  }
}

const lastMessage = () => {
  const request = conversationMessages().at(-1)!;
  const sid = /^\/v1\/Conversations\/(CH\w+)\/Messages$/.exec(request.path)![1]!;
  const conversation = s.twilio.conversations.get(sid)!;
  return { request, conversation, message: conversation.messages.at(-1)! };
};

test("with Twilio the SMS component offers to start a group, as Twilio now carries group texts", async () => {
  const commands = await commandsOf(juliet, SMS);
  assert.ok(commands.includes("new-group"), commands.join(", "));
});

test("a text to the user's number alone still arrives one-to-one, through the number's messaging webhook", async () => {
  const posted = await s.twilio.sendInbound({ accountSid: s.operator.sid, from: ROMEO, to: OURS, body: "Just us." });
  assert.equal(posted.status, 200);
  const message = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === phoneJid(ROMEO), 10_000);
  assert.equal(message.attrs.type, "chat");
  assert.equal(message.getChildText("body"), "Just us.");
  assert.equal(juliet.received.filter(isInvitation).length, 0);
});

test("a group text from a member, in a conversation Twilio made for it, invites the user to a room of the three others", async () => {
  const posted = await groupText(ROMEO, [NURSE, FRIAR], "Meet at the cell at noon?");
  assert.deepEqual(posted.statuses, [200]);
  const invitation = await juliet.waitFor(isInvitation, 15_000);
  room = invitedTo(invitation);
  assert.match(room, new RegExp(`^thread-[a-z2-7]{32}@${SMS.replaceAll(".", "\\.")}$`));
  const words = invitation.getChildText("body") ?? "";
  for (const number of [ROMEO, NURSE, FRIAR]) assert.ok(words.includes(number), words);
  assert.equal(juliet.messages(phoneJid(ROMEO)).length, 0, "the text does not also come one-to-one");
  // The webhook names the conversation only: the gateway listed its participants through the SDK.
  assert.equal(calls("GET", new RegExp(`^/v1/Conversations/${posted.conversationSid}/Participants$`)).at(-1)?.status, 200);
  assert.equal(s.twilio.conversations.get(posted.conversationSid)?.autocreated, true);
});

test("joining shows the three numbers as occupants and the text as history", async () => {
  const people = [FRIAR, NURSE, ROMEO].sort();
  const history = [[`${room}/${ROMEO}`, "Meet at the cell at noon?"]];
  assert.deepEqual(await joinSeen(juliet, room, "Juliet"), { nicks: people, jids: people.map(phoneJid), history });
});

test("the user's answer leaves as one Conversations message from the user's number, in the conversation of all three", async () => {
  const made = conversationsMade();
  const before = conversationMessages().length;
  const singles = s.twilio.messages.length;
  await say(room, "g-1", "Noon it is.");
  await waitForMessages(before + 1);
  const { request, conversation, message } = lastMessage();
  assert.equal(request.status, 201);
  assert.deepEqual(Object.keys(request.form).sort(), ["Author", "Body"]);
  assert.equal(message.author, OURS);
  assert.equal(message.body, "Noon it is.");
  assert.deepEqual(numbersIn(conversation), { members: [FRIAR, NURSE, ROMEO].sort(), projected: [OURS] });
  assert.equal(conversation.autocreated, true, "the conversation Twilio made for Romeo's text");
  await pause(300);
  assert.equal(conversationMessages().length, before + 1, "sent once");
  assert.equal(conversationsMade(), made, "no conversation made");
  assert.equal(s.twilio.messages.length, singles, "no one-to-one texts besides");
});

test("a later text of the same three, from another of them, lands in the same room", async () => {
  const invitations = juliet.received.filter(isInvitation).length;
  assert.deepEqual((await groupText(NURSE, [FRIAR, ROMEO], "I will bring the ladder.")).statuses, [200]);
  const message = await juliet.waitFor(groupchatIn(room, "I will bring the ladder."), 10_000);
  assert.equal(message.attrs.from, `${room}/${NURSE}`);
  await pause(200);
  assert.equal(juliet.received.filter(isInvitation).length, invitations, "no new room");
});

test("a group started from XMPP makes a conversation (the user's number projected, each member by address, a webhook of its own) and sends into it", async () => {
  started = await startGroup(juliet, SMS, [TYBALT, BENVOLIO], "Truce");
  await join(juliet, started, "Juliet");
  const made = conversationsMade();
  const before = conversationMessages().length;
  await say(started, "g-new", "Shall we talk?");
  await waitForMessages(before + 1);
  assert.equal(conversationsMade(), made + 1);
  const { conversation, message } = lastMessage();
  assert.equal(conversation.autocreated, false);
  assert.deepEqual(numbersIn(conversation), { members: [BENVOLIO, TYBALT].sort(), projected: [OURS] });
  assert.deepEqual(
    conversation.participants.map((participant) => participant.identity),
    [null, null, null],
    "a standalone projected address, no chat identity",
  );
  assert.equal(message.author, OURS);
  assert.equal(message.body, "Shall we talk?");
  assert.deepEqual(
    conversation.webhooks.map((webhook) => ({ url: webhook.url, method: webhook.method, filters: webhook.filters })),
    [{ url: statusUrl(s.h), method: "POST", filters: ["onMessageAdded", "onDeliveryUpdated"] }],
  );
  const participants = calls("POST", new RegExp(`^/v1/Conversations/${conversation.sid}/Participants$`));
  assert.deepEqual(
    participants.map((entry) => entry.form),
    [{ "MessagingBinding.ProjectedAddress": [OURS] }, ...[BENVOLIO, TYBALT].sort().map((number) => ({ "MessagingBinding.Address": [number] }))],
  );
});

test("a second message to that group reuses its conversation", async () => {
  const made = conversationsMade();
  const before = conversationMessages().length;
  const first = lastMessage().conversation.sid;
  await say(started, "g-again", "Truly?");
  await waitForMessages(before + 1);
  assert.equal(conversationsMade(), made);
  assert.equal(lastMessage().conversation.sid, first);
  assert.equal(lastMessage().message.body, "Truly?");
});

test("a member's answer in that conversation reaches the room once, though Twilio posts it to both webhooks", async () => {
  const posted = await groupText(TYBALT, [BENVOLIO], "We shall.");
  assert.equal(posted.conversationSid, lastMessage().conversation.sid, "Twilio put it in the gateway's conversation");
  assert.deepEqual(posted.statuses, [200, 200], "the conversation's own webhook, then the global one");
  const answer = await juliet.waitFor(groupchatIn(started, "We shall."), 10_000);
  assert.equal(answer.attrs.from, `${started}/${TYBALT}`);
  await pause(400);
  assert.equal(juliet.received.filter(groupchatIn(started, "We shall.")).length, 0, "no second copy");
});

test("a conversation Twilio forgot (404) is made again, with everyone in it, and the message goes there", async () => {
  const forgotten = lastMessage().conversation.sid;
  s.twilio.conversations.delete(forgotten);
  const made = conversationsMade();
  const before = conversationMessages().length;
  await say(started, "g-lost", "Are you still there?");
  await waitForMessages(before + 1);
  assert.equal(conversationsMade(), made + 1);
  assert.equal(calls("POST", new RegExp(`^/v1/Conversations/${forgotten}/Messages$`)).at(-1)?.status, 404);
  const { conversation, message } = lastMessage();
  assert.notEqual(conversation.sid, forgotten);
  assert.deepEqual(numbersIn(conversation), { members: [BENVOLIO, TYBALT].sort(), projected: [OURS] });
  assert.equal(message.body, "Are you still there?");
  assert.equal(juliet.received.filter(errorFor("g-lost")).length, 0);
});

test("a member's delivery failure (onDeliveryUpdated) comes back as an error from the room, with Twilio's reason", async () => {
  const before = conversationMessages().length;
  await say(started, "g-undelivered", "Did this arrive?");
  await waitForMessages(before + 1);
  const { message } = lastMessage();
  assert.ok((await s.twilio.postDelivery(message.sid, "undelivered", 30003)).every((status) => status === 200));
  const error = await juliet.waitFor(errorFor("g-undelivered"), 10_000);
  assert.equal(error.attrs.from, started);
  assert.match(errorWords(error), /phone is unreachable/);
});

test("a picture in a group text arrives in the room, fetched through the Media Content Service", async () => {
  const picture = Buffer.from("\x89PNG the balcony");
  const posted = await groupText(ROMEO, [NURSE, FRIAR], "The balcony.", { media: [{ contentType: "image/png", data: picture }] });
  assert.deepEqual(posted.statuses, [200]);
  const message = await juliet.waitFor(groupchatStartingWith(room, "The balcony."), 10_000);
  const link = oobUrl(message);
  assert.match(link, /^http/);
  assert.deepEqual(Buffer.from(await (await fetch(link)).arrayBuffer()), picture);
  assert.equal(calls("GET", /^\/v1\/Services\/IS\w+\/Media\/ME\w+$/).at(-1)?.status, 200);
});

test("a file the user sends to a group leaves as its link in the text (Conversations messages carry no media URLs)", async () => {
  const before = conversationMessages().length;
  await say(room, "g-pic", "https://upload.example.org/ring.jpg", xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, "https://upload.example.org/ring.jpg")));
  await waitForMessages(before + 1);
  assert.equal(lastMessage().message.body, "https://upload.example.org/ring.jpg", "the link once: it was the body already");
  await say(room, "g-pic-2", "Look at this", xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, "https://upload.example.org/rose.jpg")));
  await waitForMessages(before + 2);
  assert.equal(lastMessage().message.body, "Look at this\nhttps://upload.example.org/rose.jpg");
  assert.equal(juliet.received.filter(errorFor("g-pic")).length + juliet.received.filter(errorFor("g-pic-2")).length, 0);
});

test("a forged signature on a Conversations webhook is answered 403, and nothing arrives", async () => {
  const posted = await groupText(ROMEO, [NURSE, FRIAR], "Forged words.", { signature: "forged" });
  assert.deepEqual(posted.statuses, [403]);
  const unsigned = await groupText(ROMEO, [NURSE, FRIAR], "Unsigned words.", { signature: "missing" });
  assert.deepEqual(unsigned.statuses, [403]);
  await pause(500);
  assert.equal(juliet.received.filter((stanza) => ["Forged words.", "Unsigned words."].includes(stanza.getChildText("body") ?? "")).length, 0);
});

test("a group of ten others is refused in words (Twilio: ten participants, the user's number one of them), and nothing leaves", async () => {
  const ten = Array.from({ length: 10 }, (_, index) => `+1415557${String(index).padStart(4, "0")}`);
  const crowd = await startGroup(juliet, SMS, ten, "Crowd");
  await join(juliet, crowd, "Juliet");
  const requests = s.twilio.requests.length;
  const refused = await refusedMessage(juliet, crowd, "g-10", "Too many of us.");
  assert.equal(refused.from, crowd);
  assert.match(refused.words, /at most 9 people/);
  await pause(300);
  assert.equal(s.twilio.requests.length, requests, "Twilio was not asked anything");
});

test("a number Twilio refuses as a participant comes back as an error from the room in words, and the half-made conversation is removed", async () => {
  const BAD = "+14155550199";
  s.twilio.refuse(BAD, 50407);
  const bad = await startGroup(juliet, SMS, [TYBALT, BAD], "Bad number");
  await join(juliet, bad, "Juliet");
  const made = conversationsMade();
  const refused = await refusedMessage(juliet, bad, "g-bad", "Hello?");
  assert.match(refused.words, /not a valid phone number for a group text\. \(Twilio error 50407\)/);
  assert.equal(conversationsMade(), made + 1);
  const removed = calls("DELETE", /^\/v1\/Conversations\/CH\w+$/).at(-1);
  assert.equal(removed?.status, 204);
  assert.equal([...s.twilio.conversations.values()].filter((conversation) => numbersIn(conversation).members.includes(BAD)).length, 0);
});

test("hostile Conversations webhooks are refused or dropped, and group texts go on arriving", async () => {
  const conversationSid = [...s.twilio.conversations.values()].find((conversation) => conversation.autocreated)!.sid;
  const message = { EventType: "onMessageAdded", ConversationSid: conversationSid, MessageSid: `IM${"a".repeat(32)}`, Author: ROMEO, Body: "Hostile." };
  const { ConversationSid: _left, ...withoutConversation } = message;
  assert.equal(await postEvent(withoutConversation), 400, "no ConversationSid");
  assert.equal(await postEvent({ ...message, ConversationSid: "CH<script>" }), 400, "a ConversationSid of another shape");
  assert.equal(await postEvent({ ...message, MessageSid: "" }), 400, "no MessageSid");
  assert.equal(await postEvent({ ...message, Body: "x".repeat(40_000) }), 400, "a Body no phone sends");
  assert.equal(await postEvent({ ...message, Body: "x".repeat(70_000) }), 413, "a body over maxWebhookBytes");
  assert.equal(await postEvent({ ...message, Media: "{not json" }), 400, "Media that is not JSON");
  assert.equal(await postEvent({ ...message, Media: '{"Sid":"ME1"}' }), 400, "Media that is not a list");
  assert.equal(await postEvent({ ...message, Media: '[{"Sid":"../../etc/passwd","ContentType":"image/png"}]' }), 400, "Media without a media SID");
  assert.equal(await postEvent({ ...message, Media: JSON.stringify(Array.from({ length: 11 }, () => ({ Sid: `ME${"b".repeat(32)}` }))) }), 400, "eleven media");
  // Well formed, but about nothing the gateway has: acknowledged and dropped.
  assert.equal(await postEvent({ ...message, ConversationSid: `CH${"c".repeat(32)}` }), 200, "a conversation Twilio does not know");
  assert.equal(await postEvent({ ...message, Author: "+14155550177" }), 200, "an author who is not in the conversation");
  assert.equal(await postEvent({ ...message, Author: OURS, MessageSid: `IM${"d".repeat(32)}` }), 200, "the gateway's own number (an echo)");
  assert.equal(await postEvent({ EventType: "onConversationStateUpdated", ConversationSid: conversationSid }), 200, "an event of no use");
  assert.equal(await postEvent({ EventType: "onMessageAdded", AccountSid: `AC${"e".repeat(32)}` }), 403, "an account the gateway does not know");
  await pause(300);
  assert.equal(juliet.received.filter((stanza) => (stanza.getChildText("body") ?? "") === "Hostile.").length, 0);

  assert.deepEqual((await groupText(FRIAR, [ROMEO, NURSE], "Still here.")).statuses, [200]);
  await juliet.waitFor(groupchatIn(room, "Still here."), 10_000);
});

test("a participant added at Twilio makes the gateway list the conversation's people again", async () => {
  const conversation = [...s.twilio.conversations.values()].find((candidate) => candidate.autocreated)!;
  const listed = calls("GET", new RegExp(`^/v1/Conversations/${conversation.sid}/Participants$`)).length;
  assert.equal(await postEvent({ EventType: "onParticipantAdded", ConversationSid: conversation.sid, ParticipantSid: `MB${"f".repeat(32)}` }), 200);
  assert.deepEqual((await groupText(ROMEO, [NURSE, FRIAR], "Listed again.")).statuses, [200]);
  await juliet.waitFor(groupchatIn(room, "Listed again."), 10_000);
  assert.equal(calls("GET", new RegExp(`^/v1/Conversations/${conversation.sid}/Participants$`)).length, listed + 1);
});

test("when Twilio cannot be asked who is in a conversation, the webhook is answered 503 for Twilio to post again, and nothing is lost", async () => {
  const conversation = [...s.twilio.conversations.values()].find((candidate) => candidate.autocreated)!;
  assert.equal(await postEvent({ EventType: "onParticipantRemoved", ConversationSid: conversation.sid, ParticipantSid: `MB${"f".repeat(32)}` }), 200);
  s.twilio.failNext(2, 503);
  assert.deepEqual((await groupText(NURSE, [ROMEO, FRIAR], "Try again.")).statuses, [503]);
  await pause(300);
  assert.equal(juliet.received.filter(groupchatIn(room, "Try again.")).length, 0);
  assert.deepEqual((await groupText(NURSE, [ROMEO, FRIAR], "Try again.")).statuses, [200]);
  await juliet.waitFor(groupchatIn(room, "Try again."), 10_000);
});

test("unregistering forgets the people of the user's group texts: no row of the store names them any more", async () => {
  const uri = s.h.config.store.uri;
  const people = [ROMEO, NURSE, FRIAR, TYBALT, BENVOLIO];
  const named = async () =>
    Object.fromEntries(await Promise.all(people.map(async (number) => [number, await countKeys(uri, number, { inValues: true })] as const)));
  const before = await named();
  assert.ok(
    Object.values(before).every((count) => count > 0),
    `rows naming each of them before: ${JSON.stringify(before)}`,
  );
  const removed = await juliet.iq(xml("iq", { type: "set", to: SMS }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))));
  assert.equal(removed.attrs.type, "result", removed.toString());
  assert.deepEqual(await named(), Object.fromEntries(people.map((number) => [number, 0])));
});
