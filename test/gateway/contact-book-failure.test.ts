// A message is stored before its source is answered; after that nothing may hold it back. Here the
// contact book cannot be written (a real store failure, made with a trigger), and the first
// message from a new sender must still reach the user at once, not wait for the next start.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, type Harness } from "../support/harness.js";
import { refuseKeyWrites } from "../support/postgres.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import type { Element, TestClient } from "../support/xmpp-client.js";

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

const BODY = "A plague o' both your houses!";
const isTheMessage = (stanza: Element): boolean => stanza.name === "message" && stanza.getChildText("body") === BODY;

test("a new sender's message arrives at once even when the contact book cannot be written, and once only", async () => {
  const message = { user: "juliet@example.test", peer: "mercutio@verona.it", body: BODY, sourceId: "contact-book-full-1" };
  await refuseKeyWrites(h.config.store.uri, "test.contacts", true);
  try {
    const delivery = await h.transport.inject(message);
    assert.equal(delivery.duplicate, false);
    await delivery.delivered;
    const arrived = await juliet.waitFor(isTheMessage);
    assert.equal(arrived.attrs.from, contactJid("mercutio@verona.it"));
    // The source posts it again (a provider that did not hear the answer): recognised, not shown twice.
    assert.equal((await h.transport.inject(message)).duplicate, true);
  } finally {
    await refuseKeyWrites(h.config.store.uri, "test.contacts", false);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(juliet.received.filter(isTheMessage).length, 0, "a second copy arrived");
});
