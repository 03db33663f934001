// /metrics scraped from a running gateway: names read well (one prefix), the delivery-latency
// histogram counts a message each way, the queue and registration gauges read the store at each
// scrape, and provider errors are counted by the provider's code.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { contactJid, register, registerAndSubscribe } from "../support/register.js";
import { xml, type TestClient } from "../support/xmpp-client.js";

let h: Harness;
let juliet: TestClient;
before(async () => {
  h = await startHarness({ users: ["juliet"] });
  juliet = await h.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await h?.stop();
});

const scrape = async (): Promise<string> => {
  const response = await fetch(`http://127.0.0.1:${h.gateway.httpPort}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
};
/** Polls until `done` holds, or fails after `timeoutMs`. */
const until = async (done: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};
/** The value of one sample line, e.g. sample(text, 'switchboard_outbox_depth{transport="test"}'). */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

test("metric names carry the prefix once, and the gauges operators alert on are there", async () => {
  const text = await scrape();
  const names = new Set(
    text
      .split("\n")
      .filter((line) => line.startsWith("# TYPE "))
      .map((line) => line.split(" ")[2]!),
  );
  for (const name of [
    "switchboard_process_cpu_seconds_total",
    "switchboard_process_resident_memory_bytes",
    "switchboard_nodejs_heap_size_used_bytes",
    "switchboard_messages_total",
    "switchboard_delivery_latency_seconds",
    "switchboard_outbox_depth",
    "switchboard_component_link_up",
    "switchboard_config_reloads_total",
    "switchboard_build_info",
    "switchboard_inbox_depth",
    "switchboard_outbox_oldest_age_seconds",
    "switchboard_inbox_oldest_age_seconds",
    "switchboard_registrations",
    "switchboard_provider_errors_total",
  ]) {
    assert.ok(names.has(name), `${name} is missing from /metrics`);
  }
  for (const name of names) {
    assert.ok(name.startsWith("switchboard_"), `${name} lacks the prefix`);
    assert.ok(!/switchboard_(\w+_)?(process_process|nodejs_nodejs|switchboard)_/.test(name), `${name} has a doubled prefix`);
  }
  assert.equal(sample(text, `switchboard_component_link_up{domain="${GATEWAY}"}`), 1);
  assert.equal(sample(text, 'switchboard_outbox_depth{transport="test"}'), 0);
  assert.equal(sample(text, 'switchboard_inbox_depth{transport="test"}'), 0);
  assert.equal(sample(text, 'switchboard_outbox_oldest_age_seconds{transport="test"}'), 0);
  assert.equal(sample(text, 'switchboard_inbox_oldest_age_seconds{transport="test"}'), 0);
  assert.equal(sample(text, 'switchboard_registrations{transport="test"}'), 1);
});

test("the delivery-latency histogram counts a message out (to the transport) and one in (to the server)", async () => {
  const series = (direction: string, part: string) => `switchboard_delivery_latency_seconds_${part}{transport="test",direction="${direction}"}`;
  const before = await scrape();
  const outBefore = sample(before, series("out", "count")) ?? 0;
  const inBefore = sample(before, series("in", "count")) ?? 0;

  await juliet.send(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id: "m-out" }, xml("body", {}, "Measured on its way out")));
  await h.transport.waitForSent(1);
  await (await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: "Measured on its way in", sourceId: "m-in" })).delivered;
  await juliet.waitFor((stanza) => stanza.name === "message" && stanza.getChildText("body") === "Measured on its way in");

  const after = await scrape();
  assert.equal(sample(after, series("out", "count")), outBefore + 1);
  assert.equal(sample(after, series("in", "count")), inBefore + 1);
  // Seconds, not milliseconds: a loopback round trip is well under ten seconds.
  const outSum = sample(after, series("out", "sum"))!;
  assert.ok(outSum >= 0 && outSum < 10, `sum ${outSum}`);
  assert.equal(sample(after, `switchboard_delivery_latency_seconds_bucket{le="+Inf",transport="test",direction="out"}`), outBefore + 1);
});

test("a message waiting for a retry shows in the outbox depth and age, and leaves both at 0 once sent", async () => {
  const sentBefore = h.transport.sent.length;
  // The harness retries after 50 ms; the server asks for 3 s, long enough to look at the outbox.
  h.transport.script.push({ kind: "temporary", reason: "the server asked to try later", retryAfterMs: 3_000, providerCode: "451" });
  const refused = once(h.transport.events, "refused");
  await juliet.send(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id: "m-wait" }, xml("body", {}, "Waits for a retry")));
  await refused;
  await new Promise((resolve) => setTimeout(resolve, 50));
  const waiting = await scrape();
  assert.equal(sample(waiting, 'switchboard_outbox_depth{transport="test"}'), 1);
  const age = sample(waiting, 'switchboard_outbox_oldest_age_seconds{transport="test"}')!;
  assert.ok(age > 0 && age < 10, `age ${age}`);
  assert.equal(sample(waiting, 'switchboard_provider_errors_total{transport="test",code="451"}'), 1);

  await h.transport.waitForSent(sentBefore + 1, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const sent = await scrape();
  assert.equal(sample(sent, 'switchboard_outbox_depth{transport="test"}'), 0);
  assert.equal(sample(sent, 'switchboard_outbox_oldest_age_seconds{transport="test"}'), 0);
});

test("provider errors are counted by their code; a code that does not look like one counts as other", async () => {
  h.transport.script.push(
    { kind: "permanent", reason: "no such user here", providerCode: "550" },
    { kind: "permanent", reason: "a hostile code", providerCode: 'x"} 1\nswitchboard_fake 2' },
  );
  for (const id of ["m-550", "m-hostile"]) {
    await juliet.send(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id }, xml("body", {}, "Refused")));
    await juliet.waitFor((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === id);
  }
  const text = await scrape();
  assert.equal(sample(text, 'switchboard_provider_errors_total{transport="test",code="550"}'), 1);
  assert.equal(sample(text, 'switchboard_provider_errors_total{transport="test",code="other"}'), 1);
  assert.ok(!text.includes("switchboard_fake"));
});

test("the registrations gauge follows a user leaving and coming back", async () => {
  const removed = await juliet.iq(xml("iq", { type: "set", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))));
  assert.equal(removed.attrs.type, "result");
  assert.equal(sample(await scrape(), 'switchboard_registrations{transport="test"}'), 0);
  assert.equal((await register(juliet)).attrs.type, "result");
  assert.equal(sample(await scrape(), 'switchboard_registrations{transport="test"}'), 1);
});

test("docs/operations.md names every metric /metrics serves", async () => {
  const doc = readFileSync(new URL("../../../docs/operations.md", import.meta.url), "utf8");
  const names = new Set(
    (await scrape())
      .split("\n")
      .filter((line) => line.startsWith("# TYPE "))
      .map((line) => line.split(" ")[2]!),
  );
  for (const name of names) {
    // Node's process metrics are documented as a family.
    const family = /^switchboard_(process|nodejs)_/.exec(name)?.[0];
    assert.ok(doc.includes(family ? `${family}*` : `\`${name}{`) || doc.includes(`\`${name}\``), `${name} is not in docs/operations.md`);
  }
});

test("an incoming message waiting for the XMPP server shows in the inbox depth and age while the link is down", async () => {
  await h.server.stop();
  try {
    const link = `switchboard_component_link_up{domain="${GATEWAY}"}`;
    await until(async () => sample(await scrape(), link) === 0);
    await h.transport.inject({ user: "juliet@example.test", peer: "romeo@montague.net", body: "Waits for the server", sourceId: "m-in-wait" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waiting = await scrape();
    assert.equal(sample(waiting, 'switchboard_inbox_depth{transport="test"}'), 1);
    const age = sample(waiting, 'switchboard_inbox_oldest_age_seconds{transport="test"}')!;
    assert.ok(age > 0 && age < 10, `age ${age}`);
  } finally {
    await h.server.start();
  }
  await until(async () => sample(await scrape(), 'switchboard_inbox_depth{transport="test"}') === 0, 30_000);
  assert.equal(sample(await scrape(), 'switchboard_inbox_oldest_age_seconds{transport="test"}'), 0);
});
