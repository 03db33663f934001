// One sender's messages are checked side by side but take their places in the order they came;
// any other stanza of the sender waits for everything before it, and everything after waits for it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSenderLanes } from "../../src/gateway/delivery/sender-lanes.js";

const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test("a sender's messages are checked at once and inserted in the order they came, however long each check takes", async () => {
  const lanes = createSenderLanes();
  const started: number[] = [];
  const inserted: number[] = [];
  const checks = [30, 5, 15, 0];
  await Promise.all(
    checks.map((ms, index) =>
      lanes.message("juliet@example.test", async (turn) => {
        started.push(index);
        await later(ms);
        await turn.wait();
        inserted.push(index);
        turn.pass();
      }),
    ),
  );
  assert.deepEqual(started, [0, 1, 2, 3], "every check started before the first ended");
  assert.deepEqual(inserted, [0, 1, 2, 3]);
});

test("a message that ends without taking its place (refused, failed) does not hold up the next", async () => {
  const lanes = createSenderLanes();
  const inserted: number[] = [];
  const first = lanes.message("juliet@example.test", async () => {
    await later(5);
    throw new Error("refused");
  });
  const second = lanes.message("juliet@example.test", async (turn) => {
    await turn.wait();
    inserted.push(2);
  });
  await assert.rejects(first);
  await second;
  assert.deepEqual(inserted, [2]);
});

test("any other stanza of the sender waits for the messages before it, and the messages after it wait for it", async () => {
  const lanes = createSenderLanes();
  const events: string[] = [];
  const one = lanes.message("romeo@example.test", async (turn) => {
    await later(20);
    await turn.wait();
    events.push("message 1");
  });
  const iq = lanes.other("romeo@example.test", async () => {
    events.push("iq start");
    await later(10);
    events.push("iq end");
  });
  const two = lanes.message("romeo@example.test", async () => {
    events.push("message 2");
  });
  // Another sender is not held up by any of it.
  await lanes.message("juliet@example.test", async () => void events.push("juliet"));
  await Promise.all([one, iq, two]);
  assert.deepEqual(events, ["juliet", "message 1", "iq start", "iq end", "message 2"]);
  await lanes.idle();
});
