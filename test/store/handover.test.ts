// A gateway instance that crashed while it held a domain on a shared PostgreSQL store comes back as
// a standby (another instance took the domain over). The messages its journal file held, read from
// the XMPP server but not yet in the shared outbox, must not wait until it holds the domain again
// (which may be never): it hands them to the shared outbox at start, and the holder sends them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSwitchboard, type Switchboard } from "../../src/app.js";
import { configSchema } from "../../src/config/schema.js";
import { openIntakeJournal } from "../../src/gateway/delivery/intake-journal.js";
import { createLogger } from "../../src/log.js";
import { LocalProsody } from "../../src/trial/prosody.js";
import { DOMAIN, GATEWAY, PASSWORD, SECRET } from "../support/harness.js";
import { createDatabase } from "../support/postgres.js";
import { contactJid, register } from "../support/register.js";
import { createTestTransport, type TestTransport } from "../support/test-transport.js";
import { until } from "../support/wait.js";
import { TestClient, xml } from "../support/xmpp-client.js";

let dir: string;
let prosody: LocalProsody;
let uri: string;
const instances: Switchboard[] = [];

async function startInstance(name: string, transport: TestTransport): Promise<Switchboard> {
  const config = configSchema.parse({
    xmpp: { host: "127.0.0.1", port: prosody.componentPort, serverDomain: DOMAIN, reconnectMinSeconds: 0.1, reconnectMaxSeconds: 1 },
    store: { uri, secretKey: "handover-test-secret-key-0123456789", journalDir: join(dir, name) },
    http: { host: "127.0.0.1", port: 0 },
    media: { dir: join(dir, name, "media") },
    log: { level: "debug" },
    transports: { test: { domain: GATEWAY, secret: SECRET } },
  });
  const gateway = await startSwitchboard(config, { log: createLogger("debug", join(dir, `${name}.log`)), transports: { test: transport }, retryBaseMs: 50 });
  instances.push(gateway);
  return gateway;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchboard-handover-"));
  prosody = new LocalProsody({ dir: join(dir, "prosody"), domain: DOMAIN, components: [{ domain: GATEWAY, secret: SECRET }] });
  prosody.addUser("juliet", PASSWORD);
  await prosody.start();
  uri = await createDatabase();
});

after(async () => {
  await Promise.allSettled(instances.map((gateway) => gateway.stop()));
  await prosody?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a restarted instance that stands by hands its journal's messages to the holder, which sends each once", async () => {
  const holding = createTestTransport();
  const holder = await startInstance("first", holding);
  await holder.services[0]!.link.waitOnline();
  const juliet = await TestClient.login(prosody.c2sPort, DOMAIN, "juliet", PASSWORD);
  assert.equal((await register(juliet)).attrs.type, "result");

  // What the second instance's journal held when it was killed: two messages the XMPP server had
  // handed over to it, never stored in the shared outbox.
  mkdirSync(join(dir, "second"), { recursive: true });
  const journal = openIntakeJournal(join(dir, "second", "test.intake.journal"), createLogger("silent"));
  for (const [id, body] of [
    ["crashed-1", "held by the journal, one"],
    ["crashed-2", "held by the journal, two"],
  ]) {
    journal.write(xml("message", { from: `juliet@${DOMAIN}/test`, to: contactJid("romeo@montague.net"), type: "chat", id }, xml("body", {}, body)));
  }

  const standby = await startInstance("second", createTestTransport());
  assert.equal(standby.services[0]!.link.state === "online", false, "the second instance stands by");
  const sent = (): string[] => holding.sent.map((entry) => entry.message.body);
  assert.ok(
    await until(() => sent().includes("held by the journal, one") && sent().includes("held by the journal, two"), 15_000),
    `the holder sent them: ${sent().join(" | ")}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(sent().filter((body) => body.startsWith("held by the journal")).length, 2, "each once");
  // Handed over means done: the journal holds nothing for a later start.
  assert.equal((await openIntakeJournal(join(dir, "second", "test.intake.journal"), createLogger("silent")).unfinished()).length, 0);
  await juliet.stop();
});
