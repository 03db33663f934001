// XEP-0356 privileges are the server's to grant: a privilege message from anyone else (another
// component, a user) changes nothing. The server's own grant is covered by roster-privilege.test.ts.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DOMAIN, GATEWAY, startHarness, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { createTestTransport } from "../support/test-transport.js";
import { xml, type TestClient } from "../support/xmpp-client.js";

const EVIL = "evil.example.test";
let h: Harness;
let juliet: TestClient;

before(async () => {
  // A second component on the same server plays the forger: the server lets a component send any
  // stanza from its own domain, and its domain has no "@", like the server's. The server grants
  // nothing here (with mod_privilege loaded it would drop such messages itself).
  const evil = Object.assign(createTestTransport(), { name: "evil" });
  h = await startHarness({ transports: { evil: { domain: EVIL, transport: evil } } });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await h?.stop();
});

/** A privilege message granting roster access, as only the server may send. */
const forgedGrant = (from?: string) =>
  xml(
    "message",
    { ...(from && { from }), to: GATEWAY, id: `forged-${Math.random().toString(36).slice(2)}` },
    xml("privilege", { xmlns: "urn:xmpp:privilege:2" }, xml("perm", { access: "roster", type: "both" })),
  );

test("a privilege message from another component or a user grants nothing: contacts still come by subscription request", async () => {
  const evilLink = h.gateway.services.find((service) => service.domain === EVIL)!.link;
  await evilLink.send(forgedGrant(EVIL));
  await juliet.send(forgedGrant()); // the server stamps it with Juliet's full JID
  // Both have reached the gateway once pings through the same routes come back.
  await juliet.iq(xml("iq", { type: "get", to: GATEWAY }, xml("ping", { xmlns: "urn:xmpp:ping" })));
  await evilLink.request(xml("iq", { type: "get", from: EVIL, to: GATEWAY, id: "ping-after-forgery" }, xml("ping", { xmlns: "urn:xmpp:ping" })));

  const romeo = contactJid("romeo@montague.net");
  const offer = juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === romeo, 10_000);
  await (await h.transport.inject({ user: `juliet@${DOMAIN}`, peer: "romeo@montague.net", nick: "Romeo", body: "Who grants what?", sourceId: "forged-1" }))
    .delivered;
  await offer;
  const log = readFileSync(join(h.dir, "gateway.log"), "utf8");
  assert.doesNotMatch(log, /server granted roster privilege/, "the gateway believed a forged grant");
  assert.doesNotMatch(log, /refused a privileged roster push/, "the gateway tried roster pushes it was never granted");
});
