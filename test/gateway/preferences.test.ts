// The core keeps a transport's own settings for the user; what release 0.1.0 stored as the core's
// sender policy is read as the e-mail transport's setting of the same meaning.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPreferences, transportOptions } from "../../src/gateway/state/preferences.js";
import type { BareJid } from "../../src/xmpp/jid.js";
import { memoryTable } from "../support/memory-table.js";

const JULIET = "juliet@example.test" as BareJid;
const POLICY = [
  {
    var: "spam",
    label: "Which mail to forward",
    options: [
      { value: "all", label: "everything" },
      { value: "known", label: "only known" },
    ],
  },
];

test("a sender policy stored by release 0.1.0 is kept as the transport's setting", async () => {
  const table = memoryTable<Record<string, unknown>>();
  await table.set(JULIET, { receipts: false, spamPolicy: "known" });
  const preferences = createPreferences(table as never);
  const prefs = await preferences.get(JULIET);
  assert.equal(prefs.receipts, false);
  assert.deepEqual(transportOptions(POLICY, prefs.options), { spam: "known" });
});

test("a transport's settings default to their first option, and one change keeps the others", async () => {
  const preferences = createPreferences(memoryTable() as never);
  assert.deepEqual(transportOptions(POLICY, (await preferences.get(JULIET)).options), { spam: "all" });
  await preferences.update(JULIET, { options: { spam: "known" } });
  const after = await preferences.update(JULIET, { receipts: false, options: { other: "x" } });
  assert.deepEqual(after.options, { spam: "known", other: "x" });
  assert.equal(after.receipts, false);
});
