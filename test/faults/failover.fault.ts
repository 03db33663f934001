// Two gateway instances on one PostgreSQL store: one holds the SMS domain, the other stands by.
// The holder is killed with kill -9 in the middle of outgoing and incoming texts; the standby
// takes the domain over within 15 s and finishes what the first had taken on, from the shared
// ledger. Nothing is lost; a copy may go out twice only where Twilio had a text whose answer the
// killed instance never recorded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/trial/ports.js";
import { LocalProsody } from "../../src/trial/prosody.js";
import { createDatabase } from "../support/postgres.js";
import { registrationForm } from "../support/register.js";
import { startTwilioStandin, type StandinAccount, type TwilioStandin } from "../support/twilio-standin.js";
import { TestClient, xml } from "../support/xmpp-client.js";
import { until } from "../support/wait.js";
import { bodies, sameIdCopies } from "./flow.js";
import { GatewayProcess } from "./gateway-process.js";
import { record, tally } from "./ledger.js";

const DOMAIN = "example.test";
const SMS = "sms.example.test";
const SECRET = "failover-secret";
const NUMBER = "+14155550100";
const ROMEO = "+14155550123";
const N = 300;
const TAKEOVER_LIMIT_MS = 15_000;

let dir: string;
let prosody: LocalProsody;
let twilio: TwilioStandin;
let operator: StandinAccount;
let first: GatewayProcess;
let second: GatewayProcess;
let juliet: TestClient;

const incomingUrl = (gateway: GatewayProcess): string => `http://127.0.0.1:${gateway.httpPort}/sms/${SMS}/incoming`;
const ready = (gateway: GatewayProcess): Promise<boolean> => fetch(`http://127.0.0.1:${gateway.httpPort}/readyz`).then((response) => response.ok, () => false);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchboard-failover-"));
  prosody = new LocalProsody({ dir: join(dir, "prosody"), domain: DOMAIN, components: [{ domain: SMS, secret: SECRET }] });
  prosody.addUser("juliet", "password");
  await prosody.start();
  twilio = await startTwilioStandin();
  operator = twilio.addAccount();
  twilio.addNumber(operator, NUMBER);
  const uri = await createDatabase();
  const config = (name: string, httpPort: number) => ({
    xmpp: { host: "127.0.0.1", port: prosody.componentPort, serverDomain: DOMAIN, reconnectMinSeconds: 0.2, reconnectMaxSeconds: 1, pingIntervalSeconds: 5, pingTimeoutSeconds: 5 },
    store: { uri, secretKey: "failover-secret-key-0123456789", journalDir: join(dir, name) },
    http: { host: "127.0.0.1", port: httpPort },
    media: { dir: join(dir, name, "media") },
    log: { level: "info" },
    limits: { messagesPerMinute: 100_000, maxQueuedStanzas: 100_000 },
    transports: {
      sms: {
        domain: SMS,
        secret: SECRET,
        apiBaseUrl: twilio.baseUrl,
        defaultRegion: "US",
        messagesPerSecond: 500,
        statusGraceMs: 200,
        operator: { accountSid: operator.sid, authToken: operator.authToken, numbers: [NUMBER] },
      },
    },
  });
  const [port1, port2] = [await freePort(), await freePort()];
  first = new GatewayProcess(join(dir, "first"), config("first", port1), port1);
  second = new GatewayProcess(join(dir, "second"), config("second", port2), port2);
  const { mkdirSync } = await import("node:fs");
  mkdirSync(first.dir, { recursive: true });
  mkdirSync(second.dir, { recursive: true });
  await first.start();
  await second.start({ standby: true });
  for (const number of operator.numbers.values()) number.smsUrl = incomingUrl(first);

  juliet = await TestClient.login(prosody.c2sPort, DOMAIN, "juliet", "password");
  const reply = await juliet.iq(xml("iq", { type: "set", to: SMS }, xml("query", { xmlns: "jabber:iq:register" }, registrationForm({ number: NUMBER }))), 20_000);
  assert.equal(reply.attrs.type, "result", reply.toString());
});

after(async () => {
  await juliet?.stop();
  await Promise.allSettled([first?.stop(), second?.stop()]);
  await twilio?.stop();
  await prosody?.stop();
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
});

test("the standby instance is alive but not ready while the first holds the domain", async () => {
  assert.equal(await ready(first), true);
  assert.equal(await ready(second), false);
});

test(`kill -9 of the active instance amid ${N} outgoing and ${N} incoming texts: the standby takes over within 15 s, nothing is lost`, async () => {
  const outKeys = Array.from({ length: N }, (_, i) => `failover out ${i}`);
  const inKeys = Array.from({ length: N }, (_, i) => `failover in ${i}`);
  const before = twilio.messages.length;
  const from = `${ROMEO}@${SMS}`;
  let holder = first;

  // Incoming texts go to whichever instance is ready, as a load balancer watching /readyz would send them.
  const incoming = (async () => {
    for (const [i, body] of inKeys.entries()) {
      for (;;) {
        const response = await twilio
          .sendInbound({ accountSid: operator.sid, from: ROMEO, to: NUMBER, body, messageSid: `SM${(0xf00000 + i).toString(16).padStart(32, "0")}`, url: incomingUrl(holder) })
          .catch(() => ({ status: 0 }));
        if (response.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 200)); // Twilio retries a failed webhook
      }
    }
  })();

  // Outgoing: a client sends; what bounces while no instance holds the domain is sent again.
  const sendOut = (i: number) => juliet.send(xml("message", { to: `${ROMEO}@${SMS}`, type: "chat", id: `fo-${i}` }, xml("body", {}, outKeys[i]!)));
  for (let i = 0; i < N / 2; i += 1) await sendOut(i);
  await until(() => twilio.messages.length - before >= N / 4, 60_000);

  await first.kill9();
  const killedAt = Date.now();
  holder = second;
  let tookOver = Number.POSITIVE_INFINITY;
  for (const deadline = killedAt + 30_000; Date.now() < deadline; ) {
    if (await ready(second)) {
      tookOver = Date.now() - killedAt;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const number of operator.numbers.values()) number.smsUrl = incomingUrl(second);
  for (let i = N / 2; i < N; i += 1) await sendOut(i);
  // What the server bounced while the domain had no holder, the user's client sends again.
  const bounced = new Set(juliet.received.filter((stanza) => stanza.attrs.type === "error" && stanza.attrs.id?.startsWith("fo-")).map((stanza) => Number(stanza.attrs.id!.slice(3))));
  for (const i of bounced) await sendOut(i);

  await incoming;
  const sent = () => twilio.messages.slice(before).map((message) => message.body);
  await until(() => new Set(sent()).size >= N && new Set(bodies(juliet, from)).size >= N, 120_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));

  const out = tally("two instances on PostgreSQL, kill -9 of the active one amid outbound SMS (XMPP → Twilio)", outKeys, sent(), {
    note: `the standby was ready ${(tookOver / 1000).toFixed(1)} s after the kill; ${bounced.size} messages bounced by the server while no instance held the domain, sent again by the client`,
  });
  const inbound = tally("two instances on PostgreSQL, kill -9 of the active one amid inbound SMS (Twilio → XMPP)", inKeys, bodies(juliet, from), { doubledSameId: sameIdCopies(juliet, from, inKeys) });
  record(out);
  record(inbound);
  assert.ok(tookOver <= TAKEOVER_LIMIT_MS, `the standby took ${tookOver} ms to take over`);
  assert.equal(out.lost, 0, JSON.stringify(out));
  assert.ok(out.doubled <= 1, JSON.stringify(out));
  assert.equal(inbound.lost, 0, JSON.stringify(inbound));
  assert.equal(inbound.doubled - (inbound.doubledSameId ?? 0), 0, JSON.stringify(inbound));
});
