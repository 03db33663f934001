import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { xml, type Element, type TestClient } from "../support/xmpp-client.js";

// The server nodeprep-s every JID it routes (RFC 3920 appendix A): a contact JID it would change
// must not be the one the gateway uses, or the user's answer goes to someone else.
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

const bodyIs = (text: string) => (stanza: Element) => stanza.name === "message" && stanza.getChildText("body") === text;

/** Injects a message from `peer`, answers it to the JID it came from, and returns that JID and the
 *  peer the answer reached. */
async function answer(peer: string, id: string): Promise<{ from: string; answeredPeer: string }> {
  await (await h.transport.inject({ user: "juliet@example.test", peer, body: `from ${id}`, sourceId: id })).delivered;
  const message = await juliet.waitFor(bodyIs(`from ${id}`));
  const from = message.attrs.from!;
  const before = h.transport.sent.length;
  await juliet.send(xml("message", { to: from, type: "chat", id: `${id}-reply` }, xml("body", {}, `answer ${id}`)));
  await h.transport.waitForSent(before + 1);
  return { from, answeredPeer: h.transport.sent.at(-1)!.message.peer };
}

test("mail from straße@example.de is answered to straße@example.de, not to strasse@example.de", async () => {
  const { from, answeredPeer } = await answer("straße@example.de", "eszett");
  assert.notEqual(from, `strasse\\40example.de@${GATEWAY}`);
  assert.equal(answeredPeer, "straße@example.de");
});

test("mail from an address with a Hebrew local part arrives and its answer reaches that address", async () => {
  const { answeredPeer } = await answer("שלום@example.com", "hebrew");
  assert.equal(answeredPeer, "שלום@example.com");
});

test("such a contact is offered to the roster under its address, not its encoded JID", async () => {
  const { from } = await answer("groß@example.de", "greek");
  // Offered by a roster push (privileged) or by a subscription request with a nick (XEP-0172).
  const offer = await juliet.waitFor(
    (stanza) =>
      stanza.getChild("query", "jabber:iq:roster")?.getChild("item")?.attrs.jid === from ||
      (stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === from),
  );
  const name = offer.getChild("query", "jabber:iq:roster")?.getChild("item")?.attrs.name ?? offer.getChildText("nick", "http://jabber.org/protocol/nick");
  assert.equal(name, "groß@example.de", offer.toString());
});

test("the vCard of such a contact names its address", async () => {
  const { from } = await answer("straße@example.de", "eszett-card");
  const card = await juliet.iq(xml("iq", { type: "get", to: from }, xml("vCard", { xmlns: "vcard-temp" })));
  assert.equal(card.getChild("vCard", "vcard-temp")!.getChildText("FN"), "straße@example.de");
});

test("a plain address keeps its familiar escaped JID", async () => {
  const { from, answeredPeer } = await answer("romeo@montague.net", "plain");
  assert.equal(from, contactJid("romeo@montague.net"));
  assert.equal(from, `romeo\\40montague.net@${GATEWAY}`);
  assert.equal(answeredPeer, "romeo@montague.net");
});
