// The registration cache also remembers who is not registered, and anyone can write to the
// gateway: 200,000 strangers must not grow the process by more than a bounded amount.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createRegistrations } from "../../src/gateway/state/registrations.js";
import { createSecretBox } from "../../src/store/secrets.js";
import type { BareJid } from "../../src/xmpp/jid.js";
import { memoryTable } from "../support/memory-table.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

test("looking up 200,000 unregistered JIDs keeps the cache bounded", async () => {
  const registrations = createRegistrations(memoryTable(), createSecretBox("test-secret-key-0123456789"), ["password"]);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200_000; i += 1) {
    assert.equal(await registrations.isRegistered(`stranger-number-${i}-with-a-long-name@spam.example.net` as BareJid), false);
  }
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  // Unbounded, 200,000 entries take ~40 MB here; the bounded cache keeps a few MB at most.
  assert.ok(grown < 8 * 1024 * 1024, `the heap grew by ${(grown / 1048576).toFixed(1)} MB`);
  // (Still in use after the measurement, so the collector could not take the cache away early.)
  assert.equal(await registrations.isRegistered("stranger-number-0-with-a-long-name@spam.example.net" as BareJid), false);
});
