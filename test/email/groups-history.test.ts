// A room's history (src/gateway/groups/room-store.ts): bounded, in arrival order, paged by archive id
// and by time, one sequence number per entry even when two writers append at once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createRoomStore, newEpoch, type HistoryEntry, type Room } from "../../src/gateway/groups/room-store.js";
import { memoryTable } from "../support/memory-table.js";

const USER = "juliet@example.test";

function setup(limit: number) {
  const tables = { rooms: memoryTable<Room>(), history: memoryTable<HistoryEntry>(), sources: memoryTable<string>() };
  const store = createRoomStore(tables, () => limit);
  const room: Room = {
    local: "thread-aaaa",
    key: "<a@x>",
    subject: "s",
    participants: [],
    recipients: { to: [], cc: [] },
    createdAt: 0,
    epoch: newEpoch(),
    first: 0,
    next: 0,
  };
  return { tables, store, room };
}

const entry = (n: number) => ({ at: 1_000 + n, nick: "n", body: `m${n}` });

test("the history keeps the last `limit` entries, pages by id either way, and by time", async () => {
  const { tables, store, room } = setup(5);
  const ids: string[] = [];
  for (let n = 0; n < 8; n += 1) ids.push((await store.append(USER, room, entry(n))).id);
  assert.equal(new Set(ids).size, 8, "archive ids are unique");
  assert.equal(tables.history.map.size, 5, "older entries are dropped");
  assert.deepEqual(
    (await store.recent(USER, room, 3)).map((e) => e.body),
    ["m5", "m6", "m7"],
  );
  const first = await store.page(USER, room, { max: 2 });
  assert.deepEqual(
    first.entries.map((e) => e.body),
    ["m3", "m4"],
  );
  assert.equal(first.complete, false);
  assert.equal(first.count, 5);
  const next = await store.page(USER, room, { max: 10, after: ids[4]! });
  assert.deepEqual(
    next.entries.map((e) => e.body),
    ["m5", "m6", "m7"],
  );
  assert.equal(next.complete, true);
  const last = await store.page(USER, room, { max: 2, before: "" });
  assert.deepEqual(
    last.entries.map((e) => e.body),
    ["m6", "m7"],
  );
  const before = await store.page(USER, room, { max: 10, before: ids[6]! });
  assert.deepEqual(
    before.entries.map((e) => e.body),
    ["m3", "m4", "m5"],
  );
  assert.equal(before.complete, true);
  const timed = await store.page(USER, room, { max: 10, start: 1_004, end: 1_006 });
  assert.deepEqual(
    timed.entries.map((e) => e.body),
    ["m4", "m5", "m6"],
  );
  await assert.rejects(store.page(USER, room, { max: 2, after: "nonsense" }), /no message with the id/);
  // An id of a room made again after an unregistration (another epoch) is not this room's.
  await assert.rejects(store.page(USER, room, { max: 2, after: `zzzzzz${(3).toString(36)}` }), /no message with the id/);
});

test("two writers appending to the same room at once (two instances) each get a sequence number of their own", async () => {
  const { tables, store, room } = setup(100);
  const copy = structuredClone(room);
  const [a, b] = await Promise.all([store.append(USER, room, entry(1)), store.append(USER, copy, entry(2))]);
  assert.notEqual(a.id, b.id);
  assert.equal(tables.history.map.size, 2);
});

test("forgetting a user removes their rooms, history and source ids, and nobody else's", async () => {
  const { tables, store, room } = setup(100);
  await store.save(USER, room);
  await store.append(USER, room, entry(1));
  await store.markSource(USER, "box:1:1", room.local);
  await store.save("romeo@example.test", room);
  await store.forget(USER);
  assert.deepEqual([...tables.rooms.map.keys()], [`romeo@example.test|${room.local}`]);
  assert.equal(tables.history.map.size, 0);
  assert.equal(tables.sources.map.size, 0);
});
