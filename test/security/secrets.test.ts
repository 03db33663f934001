// Stored secrets under a keyring: old keys still open what they sealed, `switchboard rotate-key`
// re-seals, a secret no key opens disables that one account (not the gateway), and a stored
// password is never sent to a server the user did not type it for.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createCipheriv, randomBytes, scryptSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { createLogger } from "../../src/log.js";
import { createSecretBox } from "../../src/store/secrets.js";
import { openStore, type Store } from "../../src/store/store.js";
import { errorCondition, errorText, xml, type TestClient } from "../support/xmpp-client.js";
import { scratchStoreUri } from "../support/postgres.js";
import { chat, EMAIL, eventually, personalAccount, readMailbox, registerEmail, startWorld, type World } from "../email/world.js";

const CLI = fileURLToPath(new URL("../../src/cli.js", import.meta.url));
const OLDEST_KEY = "the-key-of-two-years-ago";
const OLD_KEY = "the-key-of-last-year-0123";
const NEW_KEY = "the-key-of-this-year-4567";
const log = createLogger("silent");

interface Stored {
  fields: Record<string, string>;
  registeredAt: string;
  updatedAt: string;
}

/** A value sealed the way the gateway did before keyrings (enc:v1:, no key id). */
function sealV1(passphrase: string, plain: string): string {
  const key = scryptSync(passphrase, "switchboard/secret-box/v1", 32);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return `enc:v1:${[iv, cipher.getAuthTag(), data].map((part) => part.toString("base64url")).join(":")}`;
}

const stored = (password: string): Stored => ({
  fields: { address: "someone@mail.example", password },
  registeredAt: "2025-01-01T00:00:00.000Z",
  updatedAt: "2025-01-01T00:00:00.000Z",
});

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

test("old keys still open what they sealed (old format too); rotate-key re-seals with the current key and counts what no key opens", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-rotate-"));
  try {
    const uri = await scratchStoreUri(dir);
    let store: Store = await openStore(uri, log);
    const table = store.table<Stored>("email.registrations");
    await table.set("v1@example.org", stored(sealV1(OLDEST_KEY, "pw-from-the-old-format")));
    await table.set("old@example.org", stored(createSecretBox(OLD_KEY).seal("pw-from-last-year")));
    await table.set("new@example.org", stored(createSecretBox(NEW_KEY).seal("pw-from-this-year")));
    await table.set("damaged@example.org", stored(createSecretBox(OLD_KEY).seal("pw-damaged").replace(/.{4}$/, "AAAA")));

    const ring = createSecretBox(NEW_KEY, [OLD_KEY, OLDEST_KEY]);
    assert.equal(ring.open((await table.get("v1@example.org"))!.fields.password!), "pw-from-the-old-format");
    assert.equal(ring.open((await table.get("old@example.org"))!.fields.password!), "pw-from-last-year");
    const damaged = (await table.get("damaged@example.org"))!.fields.password!;
    assert.throws(() => ring.open(damaged));
    await store.close();

    const config = join(dir, "switchboard.yaml");
    writeFileSync(
      config,
      [
        "xmpp: {}",
        `store: { uri: "${uri}", secretKey: "${NEW_KEY}", previousSecretKeys: ["${OLD_KEY}", "${OLDEST_KEY}"] }`,
        "transports:",
        "  email: { domain: email.example.test, secret: component-secret }",
        "",
      ].join("\n"),
    );
    const first = await runCli(["rotate-key", config]);
    assert.equal(first.code, 1, `${first.stdout}${first.stderr}`);
    assert.match(first.stdout, /Re-sealed 2 stored secret\(s\) with the current key; 1 already used it; 1 could not be opened with any key/);
    assert.match(first.stdout, /email\.registrations damaged@example\.org password/);

    store = await openStore(uri, log);
    const after = store.table<Stored>("email.registrations");
    const onlyNew = createSecretBox(NEW_KEY);
    assert.equal(onlyNew.open((await after.get("v1@example.org"))!.fields.password!), "pw-from-the-old-format");
    assert.equal(onlyNew.open((await after.get("old@example.org"))!.fields.password!), "pw-from-last-year");
    assert.equal(onlyNew.open((await after.get("new@example.org"))!.fields.password!), "pw-from-this-year");
    const resealed = (await after.get("old@example.org"))!.fields.password!;
    assert.throws(() => createSecretBox(OLD_KEY).open(resealed), "the old key no longer opens it");
    await store.close();

    const second = await runCli(["rotate-key", config]);
    assert.match(second.stdout, /Re-sealed 0 stored secret\(s\) with the current key; 3 already used it; 1 could not/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const JULIET_MAIL = "juliet@capulet.test";
const ROMEO_MAIL = "romeo@montague.test";
const NURSE_MAIL = "nurse@capulet.test";

let world: World;
let juliet: TestClient;
let romeo: TestClient;

async function subscribeToGateway(client: TestClient): Promise<void> {
  await client.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === EMAIL, 10_000);
  await client.send(xml("presence", { to: EMAIL, type: "subscribed" }));
  await client.send(xml("presence", { to: EMAIL, type: "subscribe" }));
  await client.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribed" && stanza.attrs.from === EMAIL);
}

const sentTo = async (mailbox: string, text: string) => (await readMailbox(world, mailbox)).some((entry) => entry.mail.text?.includes(text));

before(async () => {
  world = await startWorld({ mailboxes: [JULIET_MAIL, ROMEO_MAIL, NURSE_MAIL] });
  juliet = await world.h.login("juliet");
  romeo = await world.h.login("romeo");
  assert.equal((await registerEmail(juliet, personalAccount(world, JULIET_MAIL))).attrs.type, "result");
  await subscribeToGateway(juliet);
  assert.equal((await registerEmail(romeo, personalAccount(world, ROMEO_MAIL))).attrs.type, "result");
  await subscribeToGateway(romeo);
});
after(async () => {
  await world?.stop();
});

test("changing where the password goes with the password left empty is refused; other changes keep it", async () => {
  const moved = await registerEmail(juliet, personalAccount(world, JULIET_MAIL, { password: "", smtp_host: "localhost" }));
  assert.equal(moved.attrs.type, "error");
  assert.equal(errorCondition(moved), "not-acceptable");
  assert.match(errorText(moved), /You changed SMTP server: enter Password again/);
  const otherUser = await registerEmail(juliet, personalAccount(world, JULIET_MAIL, { password: "", username: "tybalt@capulet.test" }));
  assert.equal(errorCondition(otherUser), "not-acceptable");
  assert.match(errorText(otherUser), /User name/);
  const renamed = await registerEmail(juliet, personalAccount(world, JULIET_MAIL, { password: "", name: "Juliet Capulet" }));
  assert.equal(renamed.attrs.type, "result", renamed.toString());
});

test("after the key changed (old key kept) and one user's sealed password was damaged, the gateway starts, tells that user, and serves the others", async () => {
  await world.h.stopGateway();
  const store = await openStore(world.h.config.store.uri, log);
  const registrations = store.table<Stored>("email.registrations");
  const romeoStored = (await registrations.get("romeo@example.test"))!;
  await registrations.set("romeo@example.test", {
    ...romeoStored,
    fields: { ...romeoStored.fields, password: romeoStored.fields.password!.replace(/.{6}$/, "AAAAAA") },
  });
  await store.close();
  const oldKey = world.h.config.store.secretKey;
  world.h.config.store.secretKey = NEW_KEY;
  (world.h.config.store as { previousSecretKeys: string[] }).previousSecretKeys = [oldKey];
  romeo.received.splice(0);
  juliet.received.splice(0);

  await world.h.startGateway();

  const told = await romeo.waitFor(
    (stanza) =>
      stanza.name === "presence" &&
      stanza.attrs.from === EMAIL &&
      stanza.attrs.type === "unavailable" &&
      /can no longer read the password/.test(stanza.getChildText("status") ?? ""),
    15_000,
  );
  assert.match(told.getChildText("status") ?? "", /register again/);
  assert.ok(!/AAAAAA|enc:/.test(told.toString()), "nothing of the sealed value is shown");

  await romeo.send(chat(NURSE_MAIL, "From Romeo, who cannot send", { id: "romeo-1" }));
  const refused = await romeo.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === "romeo-1", 15_000);
  assert.match(errorText(refused), /can no longer read the password .* register again/);

  await juliet.send(chat(NURSE_MAIL, "From Juliet, whose password opened with the previous key"));
  await eventually(async () => sentTo(NURSE_MAIL, "From Juliet, whose password opened"), "Juliet's mail in the nurse's mailbox");
  assert.equal(
    juliet.received.filter((stanza) => stanza.name === "presence" && /can no longer read/.test(stanza.getChildText("status") ?? "")).length,
    0,
    "only Romeo is told",
  );

  // Registering again with the password gives Romeo his account back.
  const again = await registerEmail(romeo, personalAccount(world, ROMEO_MAIL));
  assert.equal(again.attrs.type, "result", again.toString());
  await romeo.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === EMAIL && stanza.attrs.type === undefined, 15_000);
  await romeo.send(chat(NURSE_MAIL, "From Romeo, registered again"));
  await eventually(async () => sentTo(NURSE_MAIL, "From Romeo, registered again"), "Romeo's mail in the nurse's mailbox");
});
