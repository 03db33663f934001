import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { smsConfigSchema } from "../../transports/sms/config.js";

test("the example SMS config in config/ is one the gateway accepts", () => {
  const text = readFileSync(new URL("../../../config/switchboard.sms.example.yaml", import.meta.url), "utf8")
    .replace("${TWILIO_ACCOUNT_SID}", `AC${"0".repeat(32)}`)
    .replace(/\$\{[A-Z_]+\}/g, "set-from-the-environment");
  const { domain, secret, ...section } = (parse(text) as { transports: { sms: Record<string, unknown> } }).transports.sms;
  assert.equal(domain, "sms.example.org");
  assert.ok(secret);
  const parsed = smsConfigSchema.parse(section);
  assert.equal(parsed.operator?.numbers.length, 2);
  assert.equal(parsed.defaultRegion, "US");
});
