// What only the loopback transport does, beyond the kit's cases: the parts of the model that
// docs/transports.md shows (its own preference and filterIncoming, a permanent refusal in words,
// a signed webhook that refuses forgeries, the echoing peers).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startHarness, type Harness } from "../support/harness.js";
import { registrationForm } from "../support/register.js";
import { errorText, xml, type Element, type TestClient } from "../support/xmpp-client.js";
import { LoopbackNetwork } from "./loopback-network.js";

const LOOP = "loop.example.test";
const MODULE = fileURLToPath(new URL("./loopback-transport.js", import.meta.url));
const jid = (address: string) => `${address}@${LOOP}`;
const chatFrom = (address: string, body: string) => (stanza: Element) =>
  stanza.name === "message" && stanza.attrs.from === jid(address) && stanza.getChildText("body") === body;

let network: LoopbackNetwork;
let h: Harness;
let juliet: TestClient;

/** A line to the transport's chat bot, and its answer. */
async function say(text: string): Promise<string> {
  const answer = juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === LOOP && Boolean(stanza.getChildText("body")));
  await juliet.send(xml("message", { to: LOOP, type: "chat" }, xml("body", {}, text)));
  return (await answer).getChildText("body")!;
}

before(async () => {
  network = new LoopbackNetwork();
  await network.start();
  network.addAccount("juliet", "juliet-password");
  h = await startHarness({ transports: { loopback: { domain: LOOP, options: { module: MODULE, network: network.url, token: network.token } } } });
  juliet = await h.login("juliet");
  const reply = await juliet.iq(
    xml("iq", { type: "set", to: LOOP }, xml("query", { xmlns: "jabber:iq:register" }, registrationForm({ account: "juliet", password: "juliet-password" }))),
  );
  assert.equal(reply.attrs.type, "result", reply.toString());
});
after(async () => {
  await h?.stop();
  await network?.stop();
});

test("a peer answers what it receives", async () => {
  await juliet.send(xml("message", { to: jid("mercutio"), type: "chat", id: "echo-1" }, xml("body", {}, "Good morrow")));
  await juliet.waitFor(chatFrom("mercutio", "echo: Good morrow"), 10_000);
});

test("the transport's own preference: with 'only addresses I have written to', a stranger's message stays out", async () => {
  assert.match(await say("set from=known"), /only addresses I have written to/);
  try {
    network.carry("stranger", "juliet", "Who am I?");
    network.carry("mercutio", "juliet", "I am known");
    await juliet.waitFor(chatFrom("mercutio", "I am known"), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(juliet.messages(jid("stranger")).length, 0);
  } finally {
    assert.match(await say("set from=everyone"), /everyone/);
  }
  network.carry("stranger", "juliet", "Now you hear me");
  await juliet.waitFor(chatFrom("stranger", "Now you hear me"), 10_000);
});

test("a permanent refusal comes back to the sender as an error message with the transport's sentence", async () => {
  await juliet.send(xml("message", { to: jid("nobody"), type: "chat", id: "to-nobody" }, xml("body", {}, "Anyone?")));
  const error = await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "to-nobody", 10_000);
  assert.match(errorText(error), /There is nobody at nobody on the loopback network\./);
});

test("an event with a forged signature is refused with 403 and delivers nothing", async () => {
  const url = `http://127.0.0.1:${h.gateway.httpPort}/loopback/${LOOP}/events`;
  const event = JSON.stringify({ type: "message", id: "forged-1", from: "mallory", to: "juliet", body: "forged", sentAt: new Date().toISOString() });
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "x-loopback-signature": "00".repeat(32) }, body: event });
  assert.equal(response.status, 403);
  network.carry("mercutio", "juliet", "after the forgery");
  await juliet.waitFor(chatFrom("mercutio", "after the forgery"), 10_000);
  assert.equal(juliet.messages(jid("mallory")).length, 0);
});
