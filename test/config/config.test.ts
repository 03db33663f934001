import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ConfigError, parseConfig } from "../../src/config/load.js";
import { serverDomainOf } from "../../src/app.js";

const run = promisify(execFile);
const CLI = new URL("../../src/cli.js", import.meta.url).pathname;

const minimal = `
xmpp:
  host: 127.0.0.1
  port: 5347
store:
  secretKey: \${SB_KEY}
transports:
  test:
    domain: test.example.org
    secret: \${SB_SECRET:-fallback-secret}
`;

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

test("a minimal config fills defaults and takes secrets from the environment", () => {
  const config = parseConfig(minimal, { SB_KEY: "0123456789abcdef0123" });
  assert.equal(config.store.secretKey, "0123456789abcdef0123");
  assert.equal(config.store.uri, "sqlite://switchboard.sqlite");
  assert.equal(config.transports.test!.secret, "fallback-secret");
  assert.equal(config.log.level, "info");
  assert.equal(config.http.port, 8280);
  assert.equal(serverDomainOf(config), "example.org", "the users' domain defaults to the component domain's parent");
});

test("a bad config is refused with messages that name the key and what is wrong", () => {
  assert.deepEqual(problems(minimal), ["store.secretKey: environment variable SB_KEY is not set"]);
  const bad = problems(
    `
xmpp: { port: 99999, colour: blue }
store: { secretKey: short }
transports:
  test: { domain: "not a domain", secret: "" }
`,
  );
  assert.ok(
    bad.some((line) => line.startsWith("xmpp.port:")),
    bad.join("\n"),
  );
  assert.ok(
    bad.some((line) => line.includes("colour")),
    bad.join("\n"),
  );
  assert.ok(
    bad.some((line) => line.startsWith("store.secretKey: must be at least 16 characters")),
    bad.join("\n"),
  );
  assert.ok(
    bad.some((line) => line.startsWith("transports.test.domain: must be a domain name")),
    bad.join("\n"),
  );
  assert.ok(
    bad.some((line) => line.startsWith("transports.test.secret: must be the component secret")),
    bad.join("\n"),
  );
  assert.deepEqual(problems("xmpp: [unclosed"), [problems("xmpp: [unclosed")[0]!]);
  assert.match(problems("xmpp: [unclosed")[0]!, /^not valid YAML/);
});

test("switchboard check-config validates a file without connecting and explains failures", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-config-"));
  try {
    const unknownTransport = join(dir, "unknown.yaml");
    writeFileSync(unknownTransport, minimal.replace("test:", "carrier-pigeon:"));
    const failure = await run("node", [CLI, "check-config", unknownTransport], { env: { ...process.env, SB_KEY: "0123456789abcdef0123" } }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal((failure as { code: number }).code, 2);
    assert.match((failure as { stderr: string }).stderr, /transports\.carrier-pigeon: there is no transport called "carrier-pigeon"/);

    const missingEnv = await run("node", [CLI, "check-config", unknownTransport], { env: { PATH: process.env.PATH } }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    assert.match((missingEnv as { stderr: string }).stderr, /store\.secretKey: environment variable SB_KEY is not set/);

    const noFile = await run("node", [CLI, "check-config", join(dir, "absent.yaml")]).catch((error: { code: number; stderr: string }) => error);
    assert.equal((noFile as { code: number }).code, 2);
    assert.match((noFile as { stderr: string }).stderr, /cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the example config passes check-config once its secrets are in the environment", async () => {
  const example = new URL("../../../config/switchboard.example.yaml", import.meta.url).pathname;
  const env = {
    ...process.env,
    SWITCHBOARD_SECRET_KEY: "0123456789abcdef0123",
    SWITCHBOARD_EMAIL_SECRET: "email-secret",
    SWITCHBOARD_SMS_SECRET: "sms-secret",
    SWITCHBOARD_CATCHALL_PASSWORD: "catchall",
    TWILIO_ACCOUNT_SID: "AC0123456789abcdef0123456789abcdef",
    TWILIO_AUTH_TOKEN: "token",
  };
  const { stdout } = await run("node", [CLI, "check-config", example], { env });
  assert.match(stdout, /OK\. Server 127\.0\.0\.1:5347 \(users at example\.org\); transports: email → email\.example\.org, sms → sms\.example\.org\./);
  const withoutSecret = await run("node", [CLI, "check-config", example], { env: { ...env, SWITCHBOARD_SMS_SECRET: undefined } }).catch(
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal((withoutSecret as { code: number }).code, 2);
  assert.match((withoutSecret as { stderr: string }).stderr, /transports\.sms\.secret: environment variable SWITCHBOARD_SMS_SECRET is not set/);
});
