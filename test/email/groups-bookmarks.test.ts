// Where the server lets the transport act on the user's PEP (XEP-0356, Prosody's mod_privilege), a
// new mail thread's room goes into the user's bookmarks (XEP-0402) with autojoin, and leaving it for
// good takes it out. ejabberd 23 grants no such permission: there the invitation alone stands.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SERVER_KIND } from "../support/harness.js";
import { xml, type TestClient } from "../support/xmpp-client.js";
import { personalAccount, registerEmail, smtpSend, startWorld, type World } from "./world.js";

const JULIET = "juliet@capulet.test";
const NS_PUBSUB = "http://jabber.org/protocol/pubsub";
const NODE = "urn:xmpp:bookmarks:1";

let world: World;
let juliet: TestClient;

before(async () => {
  world = await startWorld({ mailboxes: [JULIET], privileged: true });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET));
  assert.equal(reply.attrs.type, "result", reply.toString());
});
after(async () => {
  await world?.stop();
});

async function bookmarks(): Promise<Array<{ id: string; autojoin?: string; name?: string; nick?: string }>> {
  const reply = await juliet.iq(xml("iq", { type: "get", to: "juliet@example.test" }, xml("pubsub", { xmlns: NS_PUBSUB }, xml("items", { node: NODE }))));
  if (reply.attrs.type === "error") return [];
  return (reply.getChild("pubsub", NS_PUBSUB)?.getChild("items")?.getChildren("item") ?? []).map((item) => {
    const conference = item.getChild("conference", NODE);
    return { id: item.attrs.id ?? "", autojoin: conference?.attrs.autojoin, name: conference?.attrs.name, nick: conference?.getChildText("nick") ?? undefined };
  });
}

test("a new mail thread's room is bookmarked with autojoin where the server allows it, and unbookmarked when left", async () => {
  await smtpSend(
    world,
    "romeo@montague.test",
    [JULIET],
    [
      "From: Romeo <romeo@montague.test>",
      `To: ${JULIET}, nurse@capulet.test`,
      "Subject: Picnic",
      "Message-ID: <picnic-1@montague.test>",
      "",
      "Sunday?",
      "",
    ].join("\n"),
  );
  const invitation = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.getChild("x", "jabber:x:conference") !== undefined, 15_000);
  const room = invitation.getChild("x", "jabber:x:conference")!.attrs.jid!;
  if (SERVER_KIND === "ejabberd") {
    assert.deepEqual(await bookmarks(), [], "ejabberd 23 grants no pubsub permission: no bookmark is written");
    return;
  }
  // The bookmark is written just after the invitation is sent.
  const deadline = Date.now() + 5_000;
  let found = await bookmarks();
  while (found.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    found = await bookmarks();
  }
  assert.deepEqual(found, [{ id: room, autojoin: "true", name: "Picnic", nick: "juliet" }]);
  // Prosody's mod_bookmarks shows it to clients that still read the older private-XML bookmarks (XEP-0048).
  const legacy = await juliet.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:private" }, xml("storage", { xmlns: "storage:bookmarks" }))));
  const conference = legacy.getChild("query")?.getChild("storage", "storage:bookmarks")?.getChild("conference");
  assert.equal(conference?.attrs.jid, room);
  assert.ok(["true", "1"].includes(conference?.attrs.autojoin ?? ""));

  const left = await juliet.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" }, xml("destroy"))));
  assert.equal(left.attrs.type, "result", left.toString());
  assert.deepEqual(await bookmarks(), []);
});
