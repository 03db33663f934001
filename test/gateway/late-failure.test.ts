// A failure reported long after the user wrote the message (a bounce, a carrier's report) may find the
// resource that wrote it gone. The server throws away an error message to an offline resource, so the
// failure must reach the account in a form the server keeps.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { GATEWAY, startHarness, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { errorText, xml } from "../support/xmpp-client.js";

let h: Harness;
const ROMEO = "romeo@montague.net";
before(async () => {
  h = await startHarness({ users: ["juliet"] });
});
after(async () => {
  await h?.stop();
});

const chat = (body: string, id: string) => xml("message", { to: contactJid(ROMEO), type: "chat", id }, xml("body", {}, body));

test("a failure reported after the sending resource went offline reaches the account as a chat message from the contact", async () => {
  const phone = await h.login("juliet", { resource: "phone" });
  await registerAndSubscribe(phone);
  const before = h.transport.sent.length;
  await phone.send(chat("Dinner at eight?\nBring wine.", "late-gone"));
  await h.transport.waitForSent(before + 1);
  const providerId = `test-${h.transport.sent.length}`;
  await phone.stop();

  await h.transport.context().reportStatus(providerId, { state: "failed", reason: "The recipient's mailbox is full." });
  // Juliet comes back on another device: the server hands her what it kept while she was away.
  const laptop = await h.login("juliet", { resource: "laptop" });
  const notice = await laptop.waitFor((stanza) => stanza.name === "message" && (stanza.getChildText("body") ?? "").startsWith("Not delivered"), 8_000);
  assert.equal(notice.attrs.from, contactJid(ROMEO));
  assert.equal(notice.attrs.type, "chat");
  assert.equal(notice.getChildText("body"), "Not delivered: The recipient's mailbox is full.\n> Dinner at eight?\n> Bring wine.");
  await laptop.stop();
});

test("while the sending resource is online, a late failure still comes back as an error on that message", async () => {
  const phone = await h.login("juliet", { resource: "phone2" });
  // Registered in the test before: her presence reaches the gateway, which answers with its own.
  await phone.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === GATEWAY);
  const before = h.transport.sent.length;
  await phone.send(chat("still here", "late-here"));
  await h.transport.waitForSent(before + 1);
  await h.transport.context().reportStatus(`test-${h.transport.sent.length}`, { state: "failed", reason: "No such user." });
  const error = await phone.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "late-here");
  assert.match(errorText(error), /No such user/);
  assert.equal(phone.received.filter((stanza) => (stanza.getChildText("body") ?? "").startsWith("Not delivered")).length, 0);
  await phone.stop();
});
