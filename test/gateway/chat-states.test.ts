// Chat states and the message features of a transport that declares none of them (the test
// transport: corrections and reactions "none", no retractions, no chat states), through a real
// Prosody: nothing of them reaches the network as text, and what is refused is said in words.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { errorCondition, errorText, xml, type Element, type TestClient } from "../support/xmpp-client.js";

const NS = {
  correct: "urn:xmpp:message-correct:0",
  reactions: "urn:xmpp:reactions:0",
  retract: "urn:xmpp:message-retract:1",
  chatStates: "http://jabber.org/protocol/chatstates",
  disco: "http://jabber.org/protocol/disco#info",
};
const ROMEO = "romeo@montague.net";

let h: Harness;
let juliet: TestClient;
before(async () => {
  h = await startHarness();
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await h?.stop();
});

const message = (id: string, ...children: Element[]): Element => xml("message", { to: contactJid(ROMEO), type: "chat", id }, ...children);
const barrier = (): Promise<Element> => juliet.iq(xml("iq", { type: "get", to: contactJid(ROMEO) }, xml("query", { xmlns: NS.disco })));
const errors = (): Element[] => juliet.received.filter((stanza) => stanza.name === "message" && stanza.attrs.type === "error");
const errorFor = (id: string): Promise<Element> =>
  juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === id);

test("every chat state alone is taken without a word and nothing reaches the network", async () => {
  const before = h.transport.sent.length;
  for (const state of ["active", "composing", "paused", "inactive", "gone"]) {
    await juliet.send(message(`cs-${state}`, xml(state, { xmlns: NS.chatStates })));
    // Without a type, too.
    await juliet.send(xml("message", { to: contactJid(ROMEO), id: `cs-n-${state}` }, xml(state, { xmlns: NS.chatStates })));
  }
  await barrier();
  assert.equal(h.transport.sent.length, before);
  assert.deepEqual(errors(), []);
});

test("a body with a chat state is sent as an ordinary message", async () => {
  const before = h.transport.sent.length;
  await juliet.send(message("cs-body", xml("body", {}, "typed and sent"), xml("active", { xmlns: NS.chatStates })));
  await h.transport.waitForSent(before + 1);
  assert.equal(h.transport.sent.at(-1)!.message.body, "typed and sent");
});

test("the contact's disco advertises none of the features the transport does not handle", async () => {
  const features = (await barrier())
    .getChild("query")!
    .getChildren("feature")
    .map((feature) => feature.attrs.var);
  for (const feature of [NS.correct, NS.reactions, NS.retract, NS.chatStates]) assert.ok(!features.includes(feature), feature);
});

test("a correction, a reaction and a retraction are refused in words and never sent as text", async () => {
  const before = h.transport.sent.length;
  await juliet.send(message("f-1", xml("body", {}, "fixed"), xml("replace", { xmlns: NS.correct, id: "x" })));
  assert.match(errorText(await errorFor("f-1")), /correction was not sent/);
  await juliet.send(message("f-2", xml("body", {}, "👍"), xml("reactions", { xmlns: NS.reactions, id: "x" }, xml("reaction", {}, "👍"))));
  assert.match(errorText(await errorFor("f-2")), /reaction was not sent/);
  await juliet.send(message("f-3", xml("body", {}, "retracted"), xml("retract", { xmlns: NS.retract, id: "x" })));
  const retraction = await errorFor("f-3");
  assert.equal(errorCondition(retraction), "feature-not-implemented");
  assert.match(errorText(retraction), /cannot take back/);
  await barrier();
  assert.equal(h.transport.sent.length, before);
});
