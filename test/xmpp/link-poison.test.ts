// A stanza the server closes the stream on must not hold the link hostage: it is set aside after
// a second try, the user hears of it, and everything queued with it still arrives, once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { registerAndSubscribe } from "../support/register.js";
import type { TestClient } from "../support/xmpp-client.js";
import { xml } from "../../src/xmpp/xml.js";
import { StanzaRefusedError } from "../../src/xmpp/link.js";
import { until } from "../support/wait.js";

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

test("a stanza the server refuses is set aside after a second try; the rest arrive once and the user is told", async () => {
  const link = h.gateway.services[0]!.link;
  const dropsBefore = link.drops;
  const refused: string[] = [];
  link.on("refused", (_element, condition: string) => refused.push(condition));

  // An attribute name with a space: no cleaning of text can save it, the server's parser rejects it.
  const poison = xml("message", { type: "chat", to: "juliet@example.test", from: `eve\\40example.net@${GATEWAY}`, "bad name": "x" }, xml("body", {}, "poison"));
  const poisoned = link.send(poison);
  const good = Array.from({ length: 20 }, (_, i) =>
    link.send(
      xml("message", { type: "chat", to: "juliet@example.test", from: `romeo\\40montague.net@${GATEWAY}`, id: `good-${i}` }, xml("body", {}, `good ${i}`)),
    ),
  );

  await assert.rejects(poisoned, (error: unknown) => error instanceof StanzaRefusedError);
  await Promise.all(good);
  assert.equal(refused.length, 1, "the stanza is set aside once");
  assert.ok(link.drops - dropsBefore <= 2, `the link dropped ${link.drops - dropsBefore} times; at most two tries are allowed`);
  await link.waitOnline(10_000);

  await until(() => juliet.messages(`romeo`).length >= 20, 5_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const bodies = juliet.messages("romeo").map((stanza) => stanza.getChildText("body"));
  assert.deepEqual(bodies.sort(), Array.from({ length: 20 }, (_, i) => `good ${i}`).sort(), "every other message arrives exactly once");
  const notice = await juliet.waitFor(
    (stanza) => stanza.name === "message" && stanza.attrs.from === GATEWAY && /refused/.test(stanza.getChildText("body") ?? ""),
  );
  assert.match(notice.getChildText("body") ?? "", /eve\\40example\.net/);

  const metrics = await (await fetch(`http://127.0.0.1:${h.gateway.httpPort}/metrics`)).text();
  assert.match(metrics, /switchboard_stanzas_refused_total\{domain="test\.example\.test"\} 1/);
});

test("the link stays up afterwards: a later message goes through on the first try", async () => {
  const link = h.gateway.services[0]!.link;
  const dropsBefore = link.drops;
  await link.send(xml("message", { type: "chat", to: "juliet@example.test", from: `romeo\\40montague.net@${GATEWAY}` }, xml("body", {}, "later")));
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "later");
  assert.equal(link.drops, dropsBefore);
});
