import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
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

test("with roster privilege a new contact appears in the roster by itself, named", async () => {
  const push = juliet.waitFor(
    (stanza) => stanza.name === "iq" && stanza.attrs.type === "set" && stanza.getChild("query", "jabber:iq:roster")?.getChild("item")?.attrs.jid === contactJid("romeo@montague.net"),
    5_000,
  );
  await (await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", nick: "Romeo Montague", body: "It is the east", sourceId: "priv-1" })).delivered;
  const item = (await push).getChild("query", "jabber:iq:roster")!.getChild("item")!;
  assert.equal(item.attrs.name, "Romeo Montague");
  assert.equal(item.attrs.subscription, "both");
  assert.equal(item.getChildText("group"), "Test gateway");
  const roster = await juliet.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
  assert.ok(roster.getChild("query")!.getChildren("item").some((entry) => entry.attrs.jid === contactJid("romeo@montague.net")));
  assert.equal(juliet.received.filter((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === contactJid("romeo@montague.net")).length, 0, "no subscription request is needed");
});
