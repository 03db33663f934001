// A message stored but never handed to the XMPP server (the link's queue was full) is sent when its
// source hands it on again, and the source hears it is done only once the server has it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { registerAndSubscribe } from "../support/register.js";
import { until } from "../support/wait.js";
import { xml, type TestClient } from "../support/xmpp-client.js";

const QUEUE_CAP = 20;
const JULIET = "juliet@example.test";
const ROMEO = "romeo@montague.net";

let h: Harness;
let juliet: TestClient;
before(async () => {
  h = await startHarness({ config: (raw) => (raw.limits = { maxQueuedStanzas: QUEUE_CAP }) });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await h?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Where a promise stands after `ms`: it must not have resolved early, nor stay pending for ever. */
const stateAfter = (promise: Promise<void>, ms: number): Promise<"resolved" | "rejected" | "pending"> =>
  Promise.race([
    promise.then(
      () => "resolved" as const,
      () => "rejected" as const,
    ),
    sleep(ms).then(() => "pending" as const),
  ]);

/** Runs `body` with the XMPP server frozen (SIGSTOP): the link cannot get anything confirmed. Kept
 *  short, under the link's ping timeout, so that the link stays up. */
async function whileFrozen<T>(body: () => Promise<T>): Promise<T> {
  const pids = await h.server.pids();
  for (const pid of pids) process.kill(pid, "SIGSTOP");
  try {
    return await body();
  } finally {
    for (const pid of pids) process.kill(pid, "SIGCONT");
  }
}

const inject = (body: string, sourceId: string) => h.transport.inject({ user: JULIET, peer: ROMEO, body, sourceId });
const received = (body: string) => juliet.messages().filter((stanza) => stanza.getChildText("body") === body).length;

test("a message the link refused is sent when its source hands it on again, and only then reported delivered", async () => {
  const link = h.gateway.services[0]!.link;
  const drops = link.drops;

  // The link's queue fills while the server answers nothing: the message is stored, not sent.
  const fillers: Array<Promise<boolean>> = [];
  const first = await whileFrozen(async () => {
    for (let i = 0; i < QUEUE_CAP; i += 1) {
      const filler = xml("message", { type: "headline", from: GATEWAY, to: JULIET }, xml("body", {}, `filler ${i}`));
      fillers.push(
        link.send(filler).then(
          () => true,
          () => false,
        ),
      );
    }
    return inject("stored, not sent", "redeliver-1");
  });
  assert.equal(first.duplicate, false);
  await assert.rejects(first.delivered, /stanzas are already waiting/);
  // Whatever else the gateway had queued (a presence answer, say) may have taken a filler's place.
  const accepted = (await Promise.all(fillers)).filter(Boolean).length;
  assert.ok(accepted > 0);
  await until(() => juliet.messages().filter((stanza) => stanza.getChildText("body")?.startsWith("filler")).length === accepted, 5_000);
  assert.equal(received("stored, not sent"), 0);

  // The source (an IMAP session, say) hands the same message on again while the server is slow:
  // it must not hear "done" before the server has the message; a third hand-on joins the same send.
  const [second, third] = await whileFrozen(async () => {
    const again = await inject("stored, not sent", "redeliver-1");
    const more = await inject("stored, not sent", "redeliver-1");
    assert.equal(await stateAfter(again.delivered, 500), "pending", "delivered resolved before the server had the message");
    assert.equal(await stateAfter(more.delivered, 0), "pending");
    return [again, more];
  });
  assert.equal(second.duplicate, true);
  assert.equal(third.duplicate, true);
  await second.delivered;
  await third.delivered;
  await juliet.waitFor((stanza) => stanza.name === "message" && stanza.getChildText("body") === "stored, not sent");

  // Done now: a further hand-on is a plain duplicate, sent no more.
  const fourth = await inject("stored, not sent", "redeliver-1");
  assert.equal(fourth.duplicate, true);
  assert.equal(await stateAfter(fourth.delivered, 2_000), "resolved");
  await sleep(500);
  // waitFor took the one copy out of what Juliet received: none may be left.
  assert.equal(received("stored, not sent"), 0, "the message reached the user more than once");
  assert.equal(link.drops, drops, "the link dropped");
});

test("a message the link refused reaches the user on its own once the link drains, though its source never hands it on again", async () => {
  const link = h.gateway.services[0]!.link;
  const delivery = await whileFrozen(async () => {
    for (let i = 0; i < QUEUE_CAP; i += 1)
      link.send(xml("message", { type: "headline", from: GATEWAY, to: JULIET }, xml("body", {}, `second filler ${i}`))).catch(() => undefined);
    // As over LMTP: the mail server had its 250 once the message was stored, and is done with it.
    return inject("sent again from the store", "redeliver-2");
  });
  await assert.rejects(delivery.delivered, /stanzas are already waiting/);
  await juliet.waitFor((stanza) => stanza.name === "message" && stanza.getChildText("body") === "sent again from the store", 20_000);
  await sleep(500);
  assert.equal(received("sent again from the store"), 0, "the message reached the user more than once");
});
