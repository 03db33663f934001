// Two gateway instances on one PostgreSQL store: one holds the component domain, the other stands
// by. A webhook that reaches the standby is kept in the shared ledger and answered as the transport
// asked; the holder replays it through the transport's own route (signature check included), so
// it reaches the user. A forged one is refused on replay and reaches nobody. While the holder is
// gone and the standby takes over, webhooks it takes in wait for it and none is lost.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSwitchboard, type Switchboard } from "../../src/app.js";
import { configSchema } from "../../src/config/schema.js";
import { HttpError } from "../../src/http/router.js";
import { createLogger } from "../../src/log.js";
import { LocalProsody } from "../../src/trial/prosody.js";
import type { BareJid } from "../../src/xmpp/jid.js";
import { DOMAIN, GATEWAY, PASSWORD, SECRET } from "../support/harness.js";
import { createDatabase } from "../support/postgres.js";
import { register } from "../support/register.js";
import { createTestTransport, type TestTransport } from "../support/test-transport.js";
import { until } from "../support/wait.js";
import { TestClient } from "../support/xmpp-client.js";

const HOOK = `/hook/${GATEWAY}/incoming`;
const KEY = "the-provider-signs-with-this";
const ANSWER = { status: 200, contentType: "application/json", body: '{"received":true}' };

let dir: string;
let prosody: LocalProsody;
let uri: string;
let juliet: TestClient;
const instances: Switchboard[] = [];

/** The test transport, plus a webhook route that checks a shared key, as a provider's signature. */
function hookTransport(): TestTransport {
  const transport = createTestTransport();
  const start = transport.start.bind(transport);
  transport.start = async (ctx) => {
    await start(ctx);
    ctx.http.add(
      "POST",
      HOOK,
      async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        if (req.headers["x-hook-key"] !== KEY) throw new HttpError(403, "bad signature");
        const { id, body } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: string; body: string };
        await ctx.deliver({ user: `juliet@${DOMAIN}` as BareJid, peer: "romeo@mail.example.com", body, sourceId: id });
        res.writeHead(ANSWER.status, { "content-type": ANSWER.contentType });
        res.end(ANSWER.body);
      },
      { relay: ANSWER },
    );
  };
  return transport;
}

async function startInstance(name: string): Promise<Switchboard> {
  const config = configSchema.parse({
    xmpp: { host: "127.0.0.1", port: prosody.componentPort, serverDomain: DOMAIN, reconnectMinSeconds: 0.1, reconnectMaxSeconds: 1 },
    store: { uri, secretKey: "relay-test-secret-key-0123456789", journalDir: join(dir, name) },
    http: { host: "127.0.0.1", port: 0 },
    media: { dir: join(dir, name, "media") },
    log: { level: "debug" },
    transports: { test: { domain: GATEWAY, secret: SECRET } },
  });
  const gateway = await startSwitchboard(config, {
    log: createLogger("debug", join(dir, `${name}.log`)),
    transports: { test: hookTransport() },
    retryBaseMs: 50,
  });
  instances.push(gateway);
  return gateway;
}

const post = (gateway: Switchboard, id: string, body: string, key = KEY): Promise<Response> =>
  fetch(`http://127.0.0.1:${gateway.httpPort}${HOOK}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-hook-key": key },
    body: JSON.stringify({ id, body }),
  });
const received = (text: string): boolean => juliet.messages().some((message) => message.getChildText("body") === text);
const relayed = async (gateway: Switchboard, result: string): Promise<number> =>
  (await gateway.metrics.registry.getSingleMetric("switchboard_relayed_webhooks_total")?.get())?.values.find((value) => value.labels.result === result)
    ?.value ?? 0;

let holder: Switchboard;
let standby: Switchboard;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchboard-relay-"));
  prosody = new LocalProsody({ dir: join(dir, "prosody"), domain: DOMAIN, components: [{ domain: GATEWAY, secret: SECRET }] });
  prosody.addUser("juliet", PASSWORD);
  await prosody.start();
  uri = await createDatabase();
  holder = await startInstance("first");
  await holder.services[0]!.link.waitOnline();
  standby = await startInstance("second");
  juliet = await TestClient.login(prosody.c2sPort, DOMAIN, "juliet", PASSWORD);
  const reply = await register(juliet);
  assert.equal(reply.attrs.type, "result", reply.toString());
});

after(async () => {
  await juliet?.stop();
  await Promise.allSettled(instances.map((gateway) => gateway.stop()));
  await prosody?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a webhook that reaches the standby is answered as the transport asked and reaches the user through the holder", async () => {
  const response = await post(standby, "relay-1", "through the standby");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), ANSWER.contentType);
  assert.equal(await response.text(), ANSWER.body);
  assert.ok(await until(() => received("through the standby"), 10_000), "the user got the message the standby took in");
  assert.equal(await relayed(standby, "kept"), 1);
  // The holder counts the replay once its row is gone, which may be a moment after the delivery.
  assert.ok(await waitFor(async () => (await relayed(holder, "replayed")) === 1, 10_000), "the holder replayed it once");
});

test("a forged webhook is refused by the holder at once, and on replay when the standby took it in; nobody gets it", async () => {
  assert.equal((await post(holder, "forged-1", "forged at the holder", "wrong")).status, 403);
  assert.equal((await post(standby, "forged-2", "forged at the standby", "wrong")).status, 200, "the standby cannot check what only the transport knows");
  assert.ok(await waitFor(async () => (await relayed(holder, "refused")) === 1, 10_000), "the holder refused the kept forgery on replay");
  await post(holder, "after-forgery", "after the forgery");
  assert.ok(await until(() => received("after the forgery"), 10_000));
  assert.equal(received("forged at the holder") || received("forged at the standby"), false);
});

test("a path no transport serves is 404 on the standby, and nothing is kept", async () => {
  const response = await fetch(`http://127.0.0.1:${standby.httpPort}/hook/elsewhere/incoming`, { method: "POST", body: "x" });
  assert.equal(response.status, 404);
});

test("webhooks the standby takes in while the holder is gone wait for it and arrive once it holds the domain", async () => {
  await holder.stop();
  const texts = Array.from({ length: 20 }, (_, i) => `during takeover ${i}`);
  for (const [i, text] of texts.entries()) assert.equal((await post(standby, `takeover-${i}`, text)).status, 200);
  assert.ok(await until(() => texts.every(received), 20_000), `every webhook arrived (${texts.filter(received).length} of 20)`);
  // Each exactly once.
  for (const text of texts) assert.equal(juliet.messages().filter((message) => message.getChildText("body") === text).length, 1, text);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
