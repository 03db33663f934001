import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { xml, type Element, type TestClient } from "../support/xmpp-client.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

const rosterItem = async (client: TestClient, jid: string): Promise<Element | undefined> =>
  (await client.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" }))))
    .getChild("query")!
    .getChildren("item")
    .find((item) => item.attrs.jid === jid);

test("adding a contact whose JID is no address is refused with the reason, and a valid one is still added", async () => {
  const juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);

  // The "@" written as "." instead of escaped as \40: no e-mail address stands behind this JID.
  const invalid = `bob.example.com@${GATEWAY}`;
  await juliet.send(xml("presence", { to: invalid, type: "subscribe" }));
  const refusal = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === invalid && stanza.attrs.type !== undefined);
  assert.equal(refusal.attrs.type, "unsubscribed");
  assert.match(refusal.getChildText("status") ?? "", /bob\.example\.com.*not an e-mail address/);
  // The server saw the refusal: the roster entry no longer waits for an answer.
  const refused = await rosterItem(juliet, invalid);
  assert.equal(refused?.attrs.ask, undefined);
  assert.equal(refused?.attrs.subscription ?? "none", "none");

  const valid = contactJid("bob@example.com");
  await juliet.send(xml("presence", { to: valid, type: "subscribe" }));
  const accepted = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === valid && stanza.attrs.type === "subscribed");
  assert.ok(accepted);
  assert.equal((await rosterItem(juliet, valid))?.attrs.subscription, "to");
  await juliet.stop();
});
