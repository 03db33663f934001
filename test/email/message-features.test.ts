// Corrections, reactions, retractions and chat states from a Jabber client to e-mail, through a real
// Prosody, the gateway with the e-mail transport, a real SMTP server and Dovecot: what the SMTP
// server gets, and what the client is told.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { simpleParser, type ParsedMail } from "mailparser";
import { errorCondition, errorText, xml, type Element, type TestClient } from "../support/xmpp-client.js";
import { chat, emailJid, eventually, personalAccount, registerEmail, startWorld, type World } from "./world.js";

const NS = {
  correct: "urn:xmpp:message-correct:0",
  reactions: "urn:xmpp:reactions:0",
  retract: "urn:xmpp:message-retract:1",
  chatStates: "http://jabber.org/protocol/chatstates",
  fallback: "urn:xmpp:fallback:0",
  disco: "http://jabber.org/protocol/disco#info",
};
const JULIET_MAIL = "juliet@capulet.test";
const ROMEO_MAIL = "romeo@montague.test";

let world: World;
let juliet: TestClient;

before(async () => {
  world = await startWorld({ mailboxes: [JULIET_MAIL, ROMEO_MAIL] });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET_MAIL, { name: "Juliet" }));
  assert.equal(reply.attrs.type, "result", reply.toString());
});
after(async () => {
  await world?.stop();
});

const message = (id: string, ...children: Element[]): Element => xml("message", { to: emailJid(ROMEO_MAIL), type: "chat", id }, ...children);

/** Mails the SMTP server took for Romeo, parsed, in order. */
const mails = (): Promise<ParsedMail[]> =>
  Promise.all(world.relay.received.filter((mail) => mail.to.includes(ROMEO_MAIL)).map((mail) => simpleParser(mail.raw)));

/** Sends a chat message and waits until the SMTP server has it: everything sent before is handled. */
async function sendAndWait(stanza: Element): Promise<ParsedMail> {
  const count = (await mails()).length;
  await juliet.send(stanza);
  return eventually(async () => (await mails())[count], "the mail at the SMTP server");
}

/** An iq to the contact, answered after everything the user sent before it. */
const barrier = (): Promise<Element> => juliet.iq(xml("iq", { type: "get", to: emailJid(ROMEO_MAIL) }, xml("query", { xmlns: NS.disco })));

const errors = (): Element[] => juliet.received.filter((stanza) => stanza.name === "message" && stanza.attrs.type === "error");
const errorFor = (id: string): Promise<Element> =>
  juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === id);

test("an e-mail contact's disco says corrections are handled, and reactions, retractions and chat states not", async () => {
  const features = (await barrier())
    .getChild("query")!
    .getChildren("feature")
    .map((feature) => feature.attrs.var);
  assert.ok(features.includes(NS.correct));
  for (const feature of [NS.reactions, NS.retract, NS.chatStates]) assert.ok(!features.includes(feature), feature);
});

test("chat states alone send no mail and bring no error; with a body, the body is mailed", async () => {
  const before = (await mails()).length;
  for (const state of ["active", "composing", "paused"]) await juliet.send(message(`cs-${state}`, xml(state, { xmlns: NS.chatStates })));
  await barrier();
  const mail = await sendAndWait(message("cs-body", xml("body", {}, "A body with a state"), xml("active", { xmlns: NS.chatStates })));
  assert.equal(mail.text?.trim(), "A body with a state");
  assert.equal((await mails()).length, before + 1);
  assert.deepEqual(errors(), []);
});

test("a correction is mailed as a follow-up in the corrected mail's thread, marked as a correction", async () => {
  const first = await sendAndWait(chat(ROMEO_MAIL, "Meet me at 8", { id: "fix-1", subject: "Tonight" }));
  const correction = await sendAndWait(message("fix-2", xml("body", {}, "Meet me at 9"), xml("replace", { xmlns: NS.correct, id: "fix-1" })));
  assert.equal(correction.text?.trim(), "Correction: Meet me at 9");
  assert.equal(correction.inReplyTo, first.messageId);
  assert.equal(correction.subject, "Re: Tonight");
});

test("a reaction is not mailed, and the client is told why; taking reactions away is silent", async () => {
  const before = (await mails()).length;
  await juliet.send(message("re-1", xml("body", {}, "👍"), xml("reactions", { xmlns: NS.reactions, id: "fix-1" }, xml("reaction", {}, "👍"))));
  const refused = await errorFor("re-1");
  assert.equal(errorCondition(refused), "feature-not-implemented");
  assert.match(errorText(refused), /^The E-mail gateway cannot carry reactions; your reaction was not sent\.$/);
  await juliet.send(message("re-2", xml("reactions", { xmlns: NS.reactions, id: "fix-1" })));
  await barrier();
  await sendAndWait(chat(ROMEO_MAIL, "after the reactions", { id: "re-3" }));
  const after = await mails();
  assert.equal(after.length, before + 1);
  assert.equal(after.at(-1)!.text?.trim(), "after the reactions");
  assert.equal(errors().filter((stanza) => stanza.attrs.id === "re-2").length, 0);
});

test("a retraction mails nothing (not even the client's fallback text) and the client is told the mail stays", async () => {
  const before = (await mails()).length;
  await juliet.send(
    message(
      "rt-1",
      xml("body", {}, "This person attempted to retract a previous message, but it's unsupported by your client."),
      xml("retract", { xmlns: NS.retract, id: "fix-1" }),
      xml("fallback", { xmlns: NS.fallback, for: NS.retract }),
    ),
  );
  const refused = await errorFor("rt-1");
  assert.equal(errorCondition(refused), "feature-not-implemented");
  assert.match(errorText(refused), /cannot take back a message already sent/);
  await sendAndWait(chat(ROMEO_MAIL, "after the retraction", { id: "rt-2" }));
  const after = await mails();
  assert.equal(after.length, before + 1);
  assert.equal(after.at(-1)!.text?.trim(), "after the retraction");
});
