import { test } from "node:test";
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
  assert.ok(times[3]! >= 290, `the fourth text left after ${times[3]} ms`);
  for (let index = 1; index < times.length; index += 1) assert.ok(times[index]! - times[index - 1]! >= 90);
});

test("different sender numbers do not wait for each other", async () => {
  const pacer = createPacer(1);
  const started = Date.now();
  await Promise.all(["+14155550100", "+14155550101", "+14155550102"].map((sender) => pacer.take(sender)));
  // At one text a second, any waiting would take a whole second.
  assert.ok(Date.now() - started < 500);
});
