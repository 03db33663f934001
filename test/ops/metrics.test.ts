// /metrics scraped from a running gateway: names read well (one prefix), and the delivery-latency
// histogram counts a message each way.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, GATEWAY, type Harness } from "../support/harness.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
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
  ]) {
    assert.ok(names.has(name), `${name} is missing from /metrics`);
  }
  for (const name of names) {
    assert.ok(name.startsWith("switchboard_"), `${name} lacks the prefix`);
    assert.ok(!/switchboard_(\w+_)?(process_process|nodejs_nodejs|switchboard)_/.test(name), `${name} has a doubled prefix`);
  }
  assert.equal(sample(text, `switchboard_component_link_up{domain="${GATEWAY}"}`), 1);
  assert.equal(sample(text, 'switchboard_outbox_depth{transport="test"}'), 0);
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
