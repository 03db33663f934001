import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHarness, type Harness } from "../support/harness.js";
import { contactJid, register, registerAndSubscribe } from "../support/register.js";
import { errorCondition, errorText, xml, type TestClient } from "../support/xmpp-client.js";
import { fillStore, freeStore, STORE_KIND } from "../support/postgres.js";
import { until } from "../support/wait.js";

// On SQLite the store lives on a small tmpfs so the test can fill the disk under the running
// gateway. PostgreSQL only notices a full disk when a table grows past its pages, so there the
// database is made to fail every write with its own disk-full error instead.
const onTmpfs = STORE_KIND === "sqlite";
const mount = mkdtempSync(join(tmpdir(), "switchboard-small-disk-"));
let h: Harness;
let juliet: TestClient;
before(async () => {
  if (onTmpfs) {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mount]);
    mkdirSync(join(mount, "store"));
  }
  h = await startHarness({
    users: ["juliet", "romeo", "mallory"],
    config: (raw) => {
      if (onTmpfs) (raw.store as Record<string, unknown>).uri = `sqlite://${join(mount, "store", "switchboard.sqlite")}`;
      (raw.transports as Record<string, Record<string, unknown>>).test!.messagesPerDay = 3;
    },
  });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await h?.stop();
  if (onTmpfs) execFileSync("umount", [mount]);
  rmSync(mount, { recursive: true, force: true });
});

const chat = (body: string, id: string) => xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id }, xml("body", {}, body));
const errorFor = (client: TestClient, id: string) => client.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === id);

test("repeated registration attempts are refused before they can be used to guess passwords", async () => {
  const mallory = await h.login("mallory");
  const attempts = [];
  for (let i = 0; i < 7; i += 1) attempts.push(await register(mallory, { address: "victim@example.com", password: "wrong" }));
  const conditions = attempts.map(errorCondition);
  assert.deepEqual(conditions.slice(0, 5), Array(5).fill("not-authorized"), "the first attempts reach the transport");
  assert.deepEqual(conditions.slice(5), ["policy-violation", "policy-violation"]);
  assert.match(errorText(attempts[6]!), /Too many registration attempts; wait 10 minutes/);
  await mallory.stop();
});

test("a user past the daily cap is told so and nothing more is sent that day", async () => {
  const before = h.transport.sent.length;
  for (let i = 1; i <= 4; i += 1) await juliet.send(chat(`daily ${i}`, `daily-${i}`));
  const refusal = await errorFor(juliet, "daily-4");
  assert.equal(errorCondition(refusal), "policy-violation");
  assert.match(errorText(refusal), /sent the 3 messages a day this gateway allows/);
  await h.transport.waitForSent(before + 3);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(h.transport.sent.length, before + 3);
});

test("with its disk full the gateway refuses new work with clear errors and recovers when space returns", async () => {
  const romeo = await h.login("romeo");
  await registerAndSubscribe(romeo);
  const filler = join(mount, "filler");
  await fillStore(h.config.store.uri, filler);
  const inbound = await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: "cannot be kept", sourceId: "full-1" }).then(
    () => "accepted",
    (error: Error & { code?: string }) => error.code,
  );
  assert.equal(inbound, "store-unavailable", "an inbound message that cannot be stored is refused to its source, not acknowledged");
  const before = h.transport.sent.length;
  await romeo.send(xml("message", { to: contactJid("juliet@capulet.example"), type: "chat", id: "full-out" }, xml("body", {}, "cannot be queued")));
  const refusal = await errorFor(romeo, "full-out");
  assert.equal(errorCondition(refusal), "resource-constraint");
  assert.match(errorText(refusal), /cannot store anything right now/);
  assert.equal(h.transport.sent.length, before, "nothing is sent that the outbox could not keep");
  assert.equal(h.gateway.services[0]!.link.state, "online");

  await freeStore(h.config.store.uri, filler);
  const delivery = await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: "kept again", sourceId: "full-2" });
  await delivery.delivered;
  await juliet.waitFor((stanza) => stanza.getChildText("body") === "kept again");
});

test("when the disk fills while a message is being sent, it is sent once, and recorded once space returns", async () => {
  const romeo = await h.login("romeo", { resource: "mid-send" });
  const filler = join(mount, "filler-mid-send");
  const send = h.transport.send;
  // The transport takes the message, and the disk fills before the gateway can record that.
  h.transport.send = async (message, account) => {
    const result = await send(message, account);
    if (message.body === "sent while the disk fills") await fillStore(h.config.store.uri, filler);
    return result;
  };
  try {
    await romeo.send(xml("message", { to: contactJid("juliet@capulet.example"), type: "chat", id: "mid-send" }, xml("body", {}, "sent while the disk fills")));
    const copies = () => h.transport.sent.filter((sent) => sent.message.body === "sent while the disk fills").length;
    await until(() => copies() === 1, 5_000);
    const ledger = h.gateway.store.ledger.forTransport("test");
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // several tries to record it
    assert.equal(copies(), 1, "a message the transport took is not sent again because the store failed");
    await freeStore(h.config.store.uri, filler);
    let left = 1;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && left > 0; ) {
      left = await ledger.outboxCount();
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(left, 0, "once the disk has room, the send is recorded and the outbox is empty");
    assert.equal(copies(), 1);
    assert.equal(
      romeo.received.filter((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "mid-send").length,
      0,
      "the sender is not told of a failure that was not one",
    );
  } finally {
    h.transport.send = send;
  }
});
