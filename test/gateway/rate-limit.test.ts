import { mock, test } from "node:test";
import assert from "node:assert/strict";
import { createRateLimiter } from "../../src/transport/rate-limit.js";

test("the wall clock set back does not stop a user's messages", (t) => {
  const realNow = Date.now.bind(Date);
  let setBack = 0;
  mock.method(Date, "now", () => realNow() - setBack);
  t.after(() => mock.restoreAll());
  const limiter = createRateLimiter(2);
  assert.equal(limiter.take("juliet@example.test"), true);
  // An operator (or NTP) steps the clock back an hour: the user still has one message of two.
  setBack = 3_600_000;
  assert.equal(limiter.take("juliet@example.test"), true);
  assert.equal(limiter.take("juliet@example.test"), false);
});
