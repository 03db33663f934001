import { test } from "node:test";
import assert from "node:assert/strict";
import { createRateLimiter } from "../../src/transport/rate-limit.js";

// Per-user limits must hold however many users the gateway has seen: the limiter once stopped
// limiting anyone new after 10,000 distinct senders.
function takeAll(limiter: { take(key: string): boolean }, key: string, times: number): number {
  let accepted = 0;
  for (let index = 0; index < times; index += 1) if (limiter.take(key)) accepted += 1;
  return accepted;
}

test("after 20,000 senders within one window, a new sender is still held to the limit", () => {
  let time = 0;
  const limiter = createRateLimiter(30, 60_000, () => time);
  for (let index = 0; index < 20_000; index += 1) {
    assert.equal(limiter.take(`user${index}@example.test`), true);
    time += 1;
  }
  assert.ok(limiter.size <= 10_000, `${limiter.size} buckets kept`);
  assert.equal(takeAll(limiter, "flood@example.test", 200), 30);
  // A sender who took a token moments ago is still counted.
  assert.equal(takeAll(limiter, "user19999@example.test", 200), 29);
  assert.ok(limiter.size <= 10_000, `${limiter.size} buckets kept`);
});

test("senders who have gone quiet for a window no longer hold memory, and come back with a full allowance", () => {
  let time = 0;
  const limiter = createRateLimiter(30, 60_000, () => time);
  for (let index = 0; index < 20_000; index += 1) {
    limiter.take(`user${index}@example.test`);
    time += 10;
  }
  // 20,000 takes 10 ms apart span 200 s: only the last minute's senders can still hold a bucket.
  assert.ok(limiter.size <= 6_001, `${limiter.size} buckets kept`);
  time += 120_000;
  assert.equal(takeAll(limiter, "user5@example.test", 200), 30);
  assert.equal(limiter.size, 1);
  assert.equal(takeAll(limiter, "flood@example.test", 200), 30);
});
