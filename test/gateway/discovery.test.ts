import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, DOMAIN, GATEWAY, type Harness } from "../support/harness.js";
import { createTestTransport } from "../support/test-transport.js";
import { contactJid } from "../support/register.js";
import { errorCondition, errorText, xml, type TestClient } from "../support/xmpp-client.js";

// A second transport whose network reports no delivery and carries no files (as plain SMTP would
// not report delivery): disco must not promise either.
const PLAIN = "plain.example.test";
const plain = createTestTransport();
Object.assign(plain, { name: "plain", capabilities: { receipts: false, subject: false, threads: false, corrections: "none", reactions: "none" } });

let h: Harness;
let juliet: TestClient;
before(async () => {
  h = await startHarness({ transports: { plain: { domain: PLAIN, transport: plain } } });
  juliet = await h.login("juliet");
});
after(async () => {
  await h?.stop();
});

const discoInfo = (to: string) => juliet.iq(xml("iq", { type: "get", to }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));

test("the server's service discovery lists the gateway", async () => {
  const reply = await juliet.iq(xml("iq", { type: "get", to: DOMAIN }, xml("query", { xmlns: "http://jabber.org/protocol/disco#items" })));
  const items = reply
    .getChild("query")!
    .getChildren("item")
    .map((item) => item.attrs.jid);
  assert.ok(items.includes(GATEWAY), `disco#items of ${DOMAIN} should list ${GATEWAY}, got ${items.join(", ")}`);
});

test("the gateway identifies itself as a gateway and lists only what it implements", async () => {
  const reply = await discoInfo(GATEWAY);
  assert.equal(reply.attrs.type, "result");
  const query = reply.getChild("query")!;
  const identity = query.getChild("identity")!;
  assert.equal(identity.attrs.category, "gateway");
  assert.equal(identity.attrs.type, "smtp");
  assert.equal(identity.attrs.name, "Test gateway");
  const features = query.getChildren("feature").map((feature) => feature.attrs.var);
  for (const feature of [
    "jabber:iq:register",
    "jabber:iq:gateway",
    "http://jabber.org/protocol/disco#info",
    "urn:xmpp:ping",
    "jabber:iq:version",
    "http://jabber.org/protocol/commands",
    "vcard-temp",
  ]) {
    assert.ok(features.includes(feature), `missing ${feature}`);
  }
  assert.ok(!features.includes("urn:xmpp:mam:2"), "nothing the gateway does not implement is advertised");
});

test("a contact JID answers service discovery as a client", async () => {
  const reply = await discoInfo(contactJid("romeo@montague.net"));
  assert.equal(reply.attrs.type, "result");
  const identity = reply.getChild("query")!.getChild("identity")!;
  assert.equal(identity.attrs.category, "client");
  assert.equal(identity.attrs.name, "romeo@montague.net");
});

test("a contact JID that is not a valid address is refused with a reason", async () => {
  // Such a name may also be a group chat the user is about to start: item-not-found, as XEP-0045
  // §6.4 asks of a room that does not exist, with a sentence for both readings.
  const reply = await discoInfo(`not-an-address@${GATEWAY}`);
  assert.equal(reply.attrs.type, "error");
  assert.equal(errorCondition(reply), "item-not-found");
  assert.match(errorText(reply), /not an e-mail address.*joining it starts one/);
});

test("the gateway answers software version and ping", async () => {
  const version = await juliet.iq(xml("iq", { type: "get", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:version" })));
  assert.equal(version.getChild("query")!.getChildText("name"), "Switchboard");
  assert.match(version.getChild("query")!.getChildText("version") ?? "", /^\d+\.\d+\.\d+/);
  const ping = await juliet.iq(xml("iq", { type: "get", to: GATEWAY }, xml("ping", { xmlns: "urn:xmpp:ping" })));
  assert.equal(ping.attrs.type, "result");
  const contactPing = await juliet.iq(xml("iq", { type: "get", to: contactJid("romeo@montague.net") }, xml("ping", { xmlns: "urn:xmpp:ping" })));
  assert.equal(contactPing.attrs.type, "result");
});

test("an unknown request gets service-unavailable with a sentence, and the gateway keeps working", async () => {
  const reply = await juliet.iq(xml("iq", { type: "get", to: GATEWAY }, xml("query", { xmlns: "urn:example:unknown" })));
  assert.equal(reply.attrs.type, "error");
  assert.equal(errorCondition(reply), "service-unavailable");
  assert.match(errorText(reply), /does not answer/);
  const set = await juliet.iq(xml("iq", { type: "set", to: contactJid("romeo@montague.net") }, xml("query", { xmlns: "jabber:iq:version" })));
  assert.equal(errorCondition(set), "service-unavailable");
  assert.equal((await discoInfo(GATEWAY)).attrs.type, "result");
});

test("the gateway translates a typed address into its contact JID (jabber:iq:gateway)", async () => {
  const prompt = await juliet.iq(xml("iq", { type: "get", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:gateway" })));
  assert.equal(prompt.getChild("query")!.getChildText("prompt"), "E-mail address");
  assert.ok(prompt.getChild("query")!.getChildText("desc"));
  const translated = await juliet.iq(
    xml("iq", { type: "set", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:gateway" }, xml("prompt", {}, " Romeo@Montague.NET "))),
  );
  assert.equal(translated.getChild("query")!.getChildText("jid"), `romeo\\40montague.net@${GATEWAY}`);
  const bad = await juliet.iq(xml("iq", { type: "set", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:gateway" }, xml("prompt", {}, "nobody"))));
  assert.equal(errorCondition(bad), "jid-malformed");
  assert.match(errorText(bad), /"nobody" is not an e-mail address/);
});

test("disco promises receipts and files only where the transport's network carries them", async () => {
  const featuresOf = async (jid: string): Promise<string[]> =>
    (await discoInfo(jid))
      .getChild("query")!
      .getChildren("feature")
      .map((feature) => feature.attrs.var!);
  for (const jid of [GATEWAY, contactJid("romeo@montague.net")]) {
    const features = await featuresOf(jid);
    assert.ok(features.includes("urn:xmpp:receipts") && features.includes("jabber:x:oob"), `${jid}: ${features.join(", ")}`);
  }
  for (const jid of [PLAIN, contactJid("romeo@montague.net", PLAIN)]) {
    const features = await featuresOf(jid);
    assert.equal(features.includes("urn:xmpp:receipts"), false, `${jid} must not promise receipts: ${features.join(", ")}`);
    assert.equal(features.includes("jabber:x:oob"), false, `${jid} must not promise files: ${features.join(", ")}`);
  }
});
