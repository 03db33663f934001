// Secrets from files, as systemd hands them over (LoadCredential= → $CREDENTIALS_DIRECTORY/NAME).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, parseConfig } from "../../src/config/load.js";

const config = (secretKey: string, secret = "component-secret") => `
xmpp: { host: 127.0.0.1, port: 5347 }
store:
  secretKey: "${secretKey}"
transports:
  email: { domain: email.example.org, secret: "${secret}" }
`;

const problems = (text: string, env: NodeJS.ProcessEnv): string[] => {
  try {
    parseConfig(text, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

test("${file:$CREDENTIALS_DIRECTORY/NAME} reads a credential, less its final line break, taken as it is", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-credentials-"));
  try {
    writeFileSync(join(dir, "secret_key"), "a-key-of-at-least-16-chars\n");
    // A file's contents are not read for references: a secret may hold "${...}" or look like a number.
    writeFileSync(join(dir, "component"), "${NOT_A_REFERENCE}");
    writeFileSync(join(dir, "digits"), "12345678901234567890");
    const parsed = parseConfig(config("${file:$CREDENTIALS_DIRECTORY/secret_key}", "${file:$CREDENTIALS_DIRECTORY/component}"), { CREDENTIALS_DIRECTORY: dir });
    assert.equal(parsed.store.secretKey, "a-key-of-at-least-16-chars");
    assert.equal(parsed.transports.email!.secret, "${NOT_A_REFERENCE}");
    // An absolute path works too, and the value stays a string.
    assert.equal(parseConfig(config(`\${file:${dir}/digits}`), {}).store.secretKey, "12345678901234567890");
    // Inside a longer value (a store URI with the password from a credential).
    writeFileSync(join(dir, "db_password"), "s3cret\n");
    const uri = parseConfig(
      config("${file:$CREDENTIALS_DIRECTORY/secret_key}").replace(
        "store:\n",
        "store:\n  uri: postgresql://sb:${file:$CREDENTIALS_DIRECTORY/db_password}@127.0.0.1:5432/sb\n",
      ),
      { CREDENTIALS_DIRECTORY: dir },
    ).store.uri;
    assert.equal(uri, "postgresql://sb:s3cret@127.0.0.1:5432/sb");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a credential that is missing, or no credentials at all, is named with its key", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-credentials-"));
  try {
    const missing = problems(config("${file:$CREDENTIALS_DIRECTORY/secret_key}"), { CREDENTIALS_DIRECTORY: dir });
    assert.equal(missing.length, 1);
    assert.match(missing[0]!, /^store\.secretKey: cannot read .*secret_key: ENOENT$/);
    const unset = problems(config("${file:$CREDENTIALS_DIRECTORY/secret_key}"), {});
    assert.deepEqual(unset, ["store.secretKey: environment variable CREDENTIALS_DIRECTORY is not set (systemd sets it when the unit has LoadCredential=)"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
