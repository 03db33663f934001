import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, SERVER_KIND, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { xml, type TestClient } from "../support/xmpp-client.js";

let h: Harness;
let juliet: TestClient;
before(async () => {
  // The server's mod_privilege (Prosody: Debian's prosody-modules) grants the transport roster access.
  h = await startHarness({ privileged: true });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await h?.stop();
});

const isRosterPushFor = (jid: string) => (stanza: import("../support/xmpp-client.js").Element) =>
  stanza.name === "iq" && stanza.attrs.type === "set" && stanza.getChild("query", "jabber:iq:roster")?.getChild("item")?.attrs.jid === jid;

if (SERVER_KIND === "prosody") {
  test("with roster privilege a new contact appears in the roster by itself, named", async () => {
    const romeo = contactJid("romeo@montague.net");
    const push = juliet.waitFor(isRosterPushFor(romeo));
    await (
      await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", nick: "Romeo Montague", body: "It is the east", sourceId: "priv-1" })
    ).delivered;
    const item = (await push).getChild("query", "jabber:iq:roster")!.getChild("item")!;
    assert.equal(item.attrs.name, "Romeo Montague");
    assert.equal(item.attrs.subscription, "both");
    assert.equal(item.getChildText("group"), "Test gateway");
    const roster = await juliet.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    assert.ok(
      roster
        .getChild("query")!
        .getChildren("item")
        .some((entry) => entry.attrs.jid === romeo),
    );
    assert.equal(
      juliet.received.filter((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === romeo).length,
      0,
      "no subscription request is needed",
    );
  });
} else {
  // ejabberd 23.01 grants the privilege but fails every privileged roster set (internal-server-error
  // from its mod_privilege); the gateway notices and offers the contact by subscription request.
  test("where the server fails privileged roster pushes, a new contact is offered by subscription request", async () => {
    const romeo = contactJid("romeo@montague.net");
    const offer = juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === romeo);
    await (
      await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", nick: "Romeo Montague", body: "It is the east", sourceId: "priv-1" })
    ).delivered;
    assert.equal((await offer).getChildText("nick", "http://jabber.org/protocol/nick"), "Romeo Montague");
    const benvolio = juliet.waitFor(
      (stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === contactJid("benvolio@verona.it"),
    );
    await (await h.transport.inject({ user: "juliet@example.test", peer: "benvolio@verona.it", nick: "Benvolio", body: "Peace!", sourceId: "priv-2" }))
      .delivered;
    await benvolio;
  });
}
