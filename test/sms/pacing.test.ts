import { mock, test } from "node:test";
import assert from "node:assert/strict";
import { createPacer } from "../../transports/sms/pacing.js";

test("texts from one number leave no faster than the configured rate", async () => {
  const pacer = createPacer(10);
  const started = Date.now();
  const times: number[] = [];
  await Promise.all(
    [0, 1, 2, 3].map(async () => {
      await pacer.take("+14155550100");
      times.push(Date.now() - started);
    }),
  );
  times.sort((a, b) => a - b);
  // Each text leaves at least 100 ms after the one before, so the k-th no sooner than k x 100 ms.
  // (Gaps between the moments the callers resume are no measure: a caller resumed late, on a busy
  // machine, makes the gap after it look short though the texts left on time.)
  for (let index = 1; index < times.length; index += 1) {
    assert.ok(times[index]! >= index * 100 - 5, `text ${index + 1} left after ${times[index]} ms`);
  }
});

test("different sender numbers do not wait for each other", async () => {
  const pacer = createPacer(1);
  const started = Date.now();
  await Promise.all(["+14155550100", "+14155550101", "+14155550102"].map((sender) => pacer.take(sender)));
  // At one text a second, any waiting would take a whole second.
  assert.ok(Date.now() - started < 500);
});

test("the wall clock set back does not hold a number's texts", async (t) => {
  const pacer = createPacer(20);
  await pacer.take("+14155550100");
  // An operator (or NTP) steps the clock back an hour between two texts.
  const realNow = Date.now.bind(Date);
  mock.method(Date, "now", () => realNow() - 3_600_000);
  t.after(() => mock.restoreAll());
  const started = performance.now();
  await pacer.take("+14155550100");
  // 50 ms apart at 20 a second; a pacer on the wall clock would wait the hour.
  assert.ok(performance.now() - started < 1_000, `the second text waited ${Math.round(performance.now() - started)} ms`);
});

test("at a rate above a text a millisecond, a burst from one number does not wait a timer per text", async () => {
  // What an operator sets for a short code or a high-throughput account, and what the bench sets.
  const pacer = createPacer(1_000_000);
  const started = performance.now();
  await Promise.all(Array.from({ length: 1_000 }, () => pacer.take("+14155550100")));
  // A timer of at least 1 ms per text, one after the other, would take a second or more.
  const took = performance.now() - started;
  assert.ok(took < 500, `1,000 texts took ${Math.round(took)} ms`);
});
