// SIGHUP on a running gateway process: what can change does, at once and without dropping the
// link; what cannot is logged as needing a restart; a file that no longer validates is refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { applyReload, planReload } from "../../src/config/reload.js";
import { configSchema } from "../../src/config/schema.js";
import { createAccess } from "../../src/gateway/state/access.js";
import { createRateLimiter } from "../../src/transport/rate-limit.js";
import { createLogger } from "../../src/log.js";
import type { BareJid } from "../../src/xmpp/jid.js";
import { contactJid, registerAndSubscribe } from "../support/register.js";
import { errorCondition, xml, type TestClient } from "../support/xmpp-client.js";
import { startGatewayProcess, type GatewayProcess, type LogLine } from "./gateway-process.js";

let g: GatewayProcess;
let juliet: TestClient;
before(async () => {
  g = await startGatewayProcess({ users: ["juliet"], limits: "  messagesPerMinute: 2" });
  juliet = await g.login("juliet");
  await registerAndSubscribe(juliet);
});
after(async () => {
  await g?.stop();
});

let sent = 0;
/** Sends a chat message to a contact; resolves with the error condition, or "" once it was accepted. */
const send = async (): Promise<string> => {
  const id = `reload-${(sent += 1)}`;
  // Sent one at a time: the next "accepted" line (debug level) is this message's.
  const seen = g.lines.length;
  const accepted = g.waitForLine((line) => g.lines.indexOf(line) >= seen && line.msg === "message accepted by transport", 5_000).then(() => "");
  const refused = juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === id, 5_000).then(errorCondition);
  await juliet.send(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id }, xml("body", {}, `message ${sent}`)));
  return Promise.any([accepted, refused]);
};
const hangUp = async (match: (line: LogLine) => boolean): Promise<LogLine> => {
  const seen = g.lines.length;
  g.child.kill("SIGHUP");
  return g.waitForLine((line) => g.lines.indexOf(line) >= seen && match(line));
};
const linkOnlineLines = (): number => g.lines.filter((line) => line.msg === "component link online").length;

test("a raised limit and a finer log level apply at SIGHUP, without dropping the link", async () => {
  const id = `reload-${(sent += 1)}`;
  await juliet.send(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id }, xml("body", {}, "first")));
  const second = `reload-${(sent += 1)}`;
  await juliet.send(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id: second }, xml("body", {}, "second")));
  const third = `reload-${(sent += 1)}`;
  const refused = juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === third);
  await juliet.send(xml("message", { to: contactJid("romeo@montague.net"), type: "chat", id: third }, xml("body", {}, "third")));
  assert.equal(errorCondition(await refused), "resource-constraint", "two a minute: the third is refused");
  assert.ok(!g.lines.some((line) => line.msg === "message accepted by transport"), "debug lines are not written at info");

  writeFileSync(g.configPath, g.configText({ log: "debug", limits: "  messagesPerMinute: 50" }));
  const applied = await hangUp((line) => line.msg.startsWith("config reloaded"));
  assert.match(applied.msg, /^config reloaded: applied limits\.messagesPerMinute=50, log\.level="debug"$/);
  for (let index = 0; index < 5; index += 1) assert.equal(await send(), "", "the new limit and the debug level are in force");
  assert.equal(linkOnlineLines(), 1, "the link was not dropped");
  const ready = await fetch(`http://127.0.0.1:${g.httpPort}/readyz`);
  assert.equal(ready.status, 200);
});

test("what needs a restart is named (never its value) and keeps its running value", async () => {
  writeFileSync(
    g.configPath,
    g
      .configText({ log: "debug", limits: "  messagesPerMinute: 50\n  maxQueuedStanzas: 10", xmppPort: 1 })
      .replace("test-secret-key-0123456789", "another-secret-key-9876543210"),
  );
  const warning = await hangUp((line) => line.msg.includes("needs a restart"));
  assert.deepEqual(warning.needsRestart, ["limits.maxQueuedStanzas", "store.secretKey", "xmpp.port"]);
  assert.match(warning.msg, /limits\.maxQueuedStanzas, store\.secretKey, xmpp\.port changed but needs a restart/);
  assert.ok(!JSON.stringify(g.lines).includes("another-secret-key"), "secrets are not logged");
  assert.equal(await send(), "", "still linked to the server on the old port");
  assert.equal(linkOnlineLines(), 1);
});

test("a config that no longer validates is refused with the key named, and the running one stays", async () => {
  writeFileSync(g.configPath, g.configText({ log: "warn", limits: "  messagesPerMinute: 0" }));
  const refusal = await hangUp((line) => line.msg.startsWith("config reload refused"));
  assert.equal(refusal.level, 50);
  assert.match(refusal.msg, /limits\.messagesPerMinute: /);
  // Still at debug (the refused file said warn), still 50 a minute.
  for (let index = 0; index < 3; index += 1) assert.equal(await send(), "");
  const metrics = await (await fetch(`http://127.0.0.1:${g.httpPort}/metrics`)).text();
  assert.match(metrics, /^switchboard_config_reloads_total\{result="refused"\} 1$/m);
  assert.match(metrics, /^switchboard_config_reloads_total\{result="applied"\} 1$/m);
});

test("a raised limit hands the difference at once; a lowered one takes it away", () => {
  let limit = 2;
  const limiter = createRateLimiter(
    () => limit,
    60_000,
    () => 0,
  );
  assert.deepEqual([limiter.take("a"), limiter.take("a"), limiter.take("a")], [true, true, false]);
  limit = 4;
  assert.deepEqual([limiter.take("a"), limiter.take("a"), limiter.take("a")], [true, true, false]);
  limit = 1;
  assert.equal(limiter.take("b"), true);
  assert.equal(limiter.take("b"), false);
});

test("which keys change at once and which wait for a restart", () => {
  const base = {
    xmpp: { host: "127.0.0.1", port: 5347 },
    store: { secretKey: "0123456789abcdef0123" },
    access: { admins: ["admin@example.org"] },
    transports: { sms: { domain: "sms.example.org", secret: "s", messagesPerDay: 10 }, email: { domain: "email.example.org", secret: "e", mode: "hosted" } },
  };
  const running = configSchema.parse(base);
  const next = configSchema.parse({
    ...base,
    access: { admins: ["admin@example.org", "ops@example.org"], register: ["*"] },
    limits: { retryForHours: 1, maxBodyChars: 1000 },
    transports: { sms: { ...base.transports.sms, messagesPerDay: 20 }, email: { ...base.transports.email, mode: "personal", messagesPerDay: 5 } },
  });
  const plan = planReload(running, next);
  assert.deepEqual(
    plan.applied.map(({ key }) => key),
    ["access.admins", "access.register", "limits.maxBodyChars", "transports.sms.messagesPerDay"],
  );
  assert.deepEqual(plan.needsRestart, ["limits.retryForHours", "transports.email.messagesPerDay", "transports.email.mode"]);
  const access = createAccess({
    get register() {
      return running.access.register;
    },
    get admins() {
      return running.access.admins;
    },
    serverDomain: "example.org",
  });
  assert.equal(access.isAdmin("ops@example.org" as BareJid), false);
  assert.equal(access.mayRegister("someone@elsewhere.net" as BareJid), false);
  applyReload(running, next, createLogger("silent"), plan);
  assert.equal(access.isAdmin("ops@example.org" as BareJid), true);
  assert.equal(access.mayRegister("someone@elsewhere.net" as BareJid), true);
  assert.equal(running.limits.maxBodyChars, 1000);
  assert.equal(running.limits.retryForHours, 48, "left as it runs");
  assert.equal(running.transports.sms!.messagesPerDay, 20);
  assert.equal(running.transports.email!.mode, "hosted");
});
