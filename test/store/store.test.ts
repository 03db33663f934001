import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log.js";
import { createSecretBox } from "../../src/store/secrets.js";
import { openStore } from "../../src/store/store.js";
import { putRawKey, scratchStoreUri, STORE_KIND, storedText } from "../support/postgres.js";
import { createRegistrations } from "../../src/gateway/state/registrations.js";
import type { BareJid } from "../../src/xmpp/jid.js";

const log = createLogger("silent");

test(`the ${STORE_KIND} store keeps tables apart, lists them, expires entries and survives reopening`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-store-"));
  try {
    // On SQLite, in a folder that does not exist yet: the store makes it.
    const uri = await scratchStoreUri(join(dir, "nested"));
    const store = await openStore(uri, log);
    const people = store.table<{ name: string }>("people");
    const other = store.table<number>("people-else");
    await people.set("a", { name: "Alice" });
    await people.set("b", { name: "Bob" });
    await other.set("a", 1);
    await people.set("gone", { name: "Ghost" }, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await people.get("a"), { name: "Alice" });
    assert.equal(await people.get("gone"), undefined);
    const listed = [];
    for await (const entry of people.entries()) listed.push(entry);
    assert.deepEqual(listed.sort(), [
      ["a", { name: "Alice" }],
      ["b", { name: "Bob" }],
    ]);
    assert.equal(await people.delete("b"), true);
    await store.close();

    const reopened = await openStore(uri, log);
    assert.deepEqual(await reopened.table("people").get("a"), { name: "Alice" });
    assert.equal(await reopened.table("people").get("b"), undefined);
    assert.equal(await reopened.table("people-else").get("a"), 1);
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`the ${STORE_KIND} store reads several keys at once, in their order, with gaps where none is or it expired`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-store-"));
  try {
    const store = await openStore(await scratchStoreUri(dir), log);
    const people = store.table<{ name: string }>("people");
    await people.set("a", { name: "Alice" });
    await people.set("b'); DROP TABLE keyv; --", { name: "Bob" });
    await people.set("gone", { name: "Ghost" }, 1);
    await store.table<number>("people-else").set("c", 3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await people.getMany(["b'); DROP TABLE keyv; --", "missing", "gone", "a", "c", "a"]), [
      { name: "Bob" },
      undefined,
      undefined,
      { name: "Alice" },
      undefined,
      { name: "Alice" },
    ]);
    assert.deepEqual(await people.getMany([]), []);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`the ${STORE_KIND} store reads mappings an earlier release wrote, and writes its own as plain JSON`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-store-"));
  try {
    const uri = await scratchStoreUri(dir);
    const store = await openStore(uri, log);
    const notes = store.table<unknown>("notes");
    // keyv's own format: a string that begins with ":" was written with one more ":".
    const later = Date.now() + 3_600_000;
    await putRawKey(uri, "notes:old", JSON.stringify({ value: { text: "::) see you", list: ["::x", "plain"] }, expires: later }));
    await putRawKey(uri, "notes:old-gone", JSON.stringify({ value: "stale", expires: Date.now() - 1 }));
    assert.deepEqual(await notes.get("old"), { text: ":) see you", list: [":x", "plain"] });
    assert.equal(await notes.get("old-gone"), undefined);
    // An expired row of the old format does not hold its key against a new claim.
    assert.equal(await notes.insert("old-gone", "mine"), true);
    assert.equal(await notes.insert("old", "mine"), false);

    // New rows keep a leading ":" as it is, and keep their expiry.
    await notes.set("new", { text: ":) hello", at: 5 }, 3_600_000);
    await notes.set("brief", ":short", 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await notes.get("new"), { text: ":) hello", at: 5 });
    assert.equal(await notes.get("brief"), undefined);
    assert.equal(await notes.insert("brief", "again"), true);
    assert.equal(await notes.get("brief"), "again");
    const listed = new Map<string, unknown>();
    for await (const [key, value] of notes.entries()) listed.set(key, value);
    assert.deepEqual(listed.get("old"), { text: ":) see you", list: [":x", "plain"] });
    assert.deepEqual(listed.get("new"), { text: ":) hello", at: 5 });
    await store.close();
    assert.match(await storedText(uri), /":\) hello"/, "the new row holds the text as written");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`the ${STORE_KIND} store answers a read with a write made before it, even one not yet awaited`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-store-"));
  try {
    const store = await openStore(await scratchStoreUri(dir), log);
    const counts = store.table<number>("counts");
    await counts.set("a", 1);
    // On PostgreSQL these writes wait for the turn's shared round trip; the reads after them must
    // not go ahead of them and see the older value, or none.
    const written = [counts.set("a", 2), counts.set("b", 5), counts.delete("a"), counts.set("a", 3)];
    assert.equal(await counts.get("a"), 3);
    assert.deepEqual(await counts.getMany(["b", "a"]), [5, 3]);
    void counts.set("c", 7);
    assert.equal(await counts.has("c"), true);
    await Promise.all(written);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("secrets are sealed with AES-GCM: unreadable without the key, tamper-evident", () => {
  const box = createSecretBox("a long operator passphrase");
  const sealed = box.seal("hunter2");
  assert.ok(sealed.startsWith("enc:v2:"), "sealed values name the key that sealed them");
  assert.ok(!sealed.includes("hunter2"));
  assert.equal(box.open(sealed), "hunter2");
  assert.notEqual(box.seal("hunter2"), sealed, "each seal uses a fresh nonce");
  assert.throws(() => createSecretBox("another passphrase!").open(sealed));
  // Change the first character of the ciphertext (its last one may carry only padding bits).
  const parts = sealed.split(":");
  const data = parts[parts.length - 1]!;
  parts[parts.length - 1] = (data[0] === "A" ? "B" : "A") + data.slice(1);
  const tampered = parts.join(":");
  assert.throws(() => box.open(tampered));
});

test("registrations keep secret fields sealed in the store file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-store-"));
  try {
    const uri = await scratchStoreUri(dir);
    const store = await openStore(uri, log);
    const registrations = createRegistrations(store.table("email.registrations"), createSecretBox("passphrase for tests"), ["password"]);
    await registrations.save("alice@example.org" as BareJid, { address: "alice@mail.example", password: "correct horse battery" });
    const loaded = await registrations.get("alice@example.org" as BareJid);
    assert.equal(loaded?.fields.password, "correct horse battery");
    await store.close();
    const raw = await storedText(uri);
    assert.ok(raw.includes("alice@mail.example"));
    assert.ok(!raw.includes("correct horse battery"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
