import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { GATEWAY, startHarness, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { xml, type TestClient } from "../support/xmpp-client.js";

const ROSTERX = "http://jabber.org/protocol/rosterx";
let h: Harness;
let juliet: TestClient;
before(async () => {
  h = await startHarness();
  juliet = await h.login("juliet");
  // Juliet's client advertises XEP-0144 roster item exchange in its service discovery.
  juliet.xmpp.iqCallee.get("http://jabber.org/protocol/disco#info", "query", () =>
    xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }, xml("identity", { category: "client", type: "pc" }), xml("feature", { var: ROSTERX })),
  );
  await registerAndSubscribe(juliet);
  // Her client announces itself to the transport, as clients do when they come online.
  await juliet.send(xml("presence", {}));
  // The transport shows itself online three times: after her subscription, to the presence her
  // server sends it when she approves its own, and to the one above. Only once all three are in
  // does it know her client, and only then is what it suggests to her settled.
  for (let answered = 0; answered < 3; answered++) {
    await juliet.waitFor((stanza) => stanza.name === "presence" && !stanza.attrs.type && stanza.attrs.from === GATEWAY);
  }
});
after(async () => {
  await h?.stop();
});

test("a client that supports roster item exchange is asked to add a new contact, named", async () => {
  const suggestion = juliet.waitFor((stanza) => stanza.name === "message" && Boolean(stanza.getChild("x", ROSTERX)));
  await (await h.transport.inject({ user: "juliet@example.test", peer: "tybalt@verona.it", nick: "Tybalt", body: "Draw!", sourceId: "rx-1" })).delivered;
  const item = (await suggestion).getChild("x", ROSTERX)!.getChild("item")!;
  assert.equal(item.attrs.action, "add");
  assert.equal(item.attrs.jid, contactJid("tybalt@verona.it"));
  assert.equal(item.attrs.name, "Tybalt");
  assert.equal(
    juliet.received.filter((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === contactJid("tybalt@verona.it"))
      .length,
    0,
  );
});
