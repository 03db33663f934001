// The Telnyx section of docs/sms.md is a config that works: the gateway starts from it, and a
// signed Telnyx webhook reaches a Jabber client.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { startHarness, type Harness } from "../support/harness.js";
import { startTelnyxStandin, type TelnyxAccount, type TelnyxStandin } from "../support/telnyx-standin.js";
import type { TestClient } from "../support/xmpp-client.js";
import { bodyFrom, joinSms, phoneJid, SMS } from "./sms-harness.js";

let telnyx: TelnyxStandin;
let account: TelnyxAccount;
let h: Harness;
let juliet: TestClient;
let section: Record<string, unknown>;

/** The first yaml block after the "## Telnyx" heading, as the doc shows it. */
function telnyxYaml(): string {
  const doc = readFileSync(new URL("../../../docs/sms.md", import.meta.url), "utf8");
  const after = doc.slice(doc.indexOf("\n## Telnyx\n"));
  const block = /```yaml\n([\s\S]*?)```/.exec(after);
  if (!block) throw new Error("docs/sms.md has no yaml block under ## Telnyx");
  return block[1]!;
}

before(async () => {
  telnyx = await startTelnyxStandin();
  account = telnyx.addAccount();
  const env: Record<string, string> = { SMS_COMPONENT_SECRET: "from-the-environment", TELNYX_API_KEY: account.apiKey, TELNYX_PUBLIC_KEY: account.publicKey };
  const text = telnyxYaml().replace(/\$\{([A-Z_]+)\}/g, (_match, name: string) => env[name] ?? "");
  section = (parse(text) as { transports: { sms: Record<string, unknown> } }).transports.sms;
  const operator = section.operator as { numbers: string[] };
  for (const number of operator.numbers) telnyx.addNumber(account, number);
  const { domain: _domain, secret: _secret, ...options } = section;
  // The test's own component domain and the stand-in's address: nothing else differs from the doc.
  h = await startHarness({ transports: { sms: { domain: SMS, options: { ...options, apiBaseUrl: telnyx.baseUrl } } } });
  // As the doc says: the messaging profile's webhook URL is <publicUrl>/sms/<domain>/incoming.
  account.profile.webhookUrl = `http://127.0.0.1:${h.gateway.httpPort}/sms/${SMS}/incoming`;
  juliet = await h.login("juliet");
});
after(async () => {
  await h?.stop();
  await telnyx?.stop();
});

test("the doc's Telnyx section chooses Telnyx, with the operator's numbers and users' own accounts", () => {
  assert.equal(section.provider, "telnyx");
  assert.equal(section.ownAccounts, true);
  assert.ok((section.operator as { numbers: string[] }).numbers.length > 0);
});

test("with the doc's config, a signed Telnyx message.received reaches the Jabber client, and a replayed old one does not", async () => {
  const number = (section.operator as { numbers: string[] }).numbers[0]!;
  await joinSms(juliet, { number });
  const result = await telnyx.sendInbound({ account, from: "+14155550123", to: number, text: "Hello from Telnyx" });
  assert.equal(result.status, 200);
  const message = await juliet.waitFor(bodyFrom(phoneJid("+14155550123")));
  assert.equal(message.getChildText("body"), "Hello from Telnyx");
  assert.equal((await telnyx.sendInbound({ account, from: "+14155550123", to: number, text: "old", signature: "stale" })).status, 403);
});
