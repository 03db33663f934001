// What strangers and heavy users cannot grow without bound: contact rows, command sessions.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { errorText, xml, type TestClient } from "../support/xmpp-client.js";
import { MAX_SESSIONS_PER_USER } from "../../src/gateway/handlers/commands/adhoc.js";

let h: Harness;
let juliet: TestClient;
before(async () => {
  h = await startHarness({ users: ["juliet", "mallory"] });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await h?.stop();
});

test("unsubscribe presences from a JID that never registered leave no contact rows behind", async () => {
  const mallory = await h.login("mallory");
  for (let i = 0; i < 50; i += 1) await mallory.send(xml("presence", { to: contactJid(`victim${i}@example.net`), type: "unsubscribe" }));
  // The answers show every presence was handled before the rows are counted.
  for (let i = 0; i < 50; i += 1)
    await mallory.waitFor(
      (stanza) => stanza.name === "presence" && stanza.attrs.type === "unavailable" && stanza.attrs.from === contactJid(`victim${i}@example.net`),
    );
  const rows = await h.gateway.store.table<Record<string, unknown>>("test.contacts").get("mallory@example.test");
  assert.equal(rows, undefined, "no contact book was written for an unregistered JID");
});

test("a user's open command sessions are capped: starting more ends the oldest, with a clear error if it is used", async () => {
  const started: string[] = [];
  for (let i = 0; i < MAX_SESSIONS_PER_USER + 15; i += 1) {
    const reply = await juliet.iq(
      xml("iq", { type: "set", to: GATEWAY }, xml("command", { xmlns: "http://jabber.org/protocol/commands", node: "display-name", action: "execute" })),
    );
    started.push(reply.getChild("command")?.attrs.sessionid ?? "");
  }
  const submit = (sessionid: string, name: string) =>
    juliet.iq(
      xml(
        "iq",
        { type: "set", to: GATEWAY },
        xml(
          "command",
          { xmlns: "http://jabber.org/protocol/commands", node: "display-name", sessionid, action: "complete" },
          xml("x", { xmlns: "jabber:x:data", type: "submit" }, xml("field", { var: "name" }, xml("value", {}, name))),
        ),
      ),
    );
  const oldest = await submit(started[0]!, "Old");
  assert.equal(oldest.attrs.type, "error");
  assert.match(errorText(oldest), /expired/);
  const newest = await submit(started.at(-1)!, "New");
  assert.equal(newest.attrs.type, "result", newest.toString());
  assert.equal(newest.getChild("command")?.attrs.status, "completed");
});
