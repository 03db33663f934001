// config/switchboard.service: what the unit promises operators (state folder, umask, credentials,
// reload, sandbox), and systemd's own check of it where systemd is installed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const UNIT = fileURLToPath(new URL("../../../config/switchboard.service", import.meta.url));
const DOCS = fileURLToPath(new URL("../../../docs/operations.md", import.meta.url));
const text = readFileSync(UNIT, "utf8");
const values = (key: string): string[] => [...text.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((match) => match[1]!);

test("the unit keeps state in its own 0700 folder, with umask 0077, secrets as credentials, and its sandbox", () => {
  assert.deepEqual(values("StateDirectory"), ["switchboard"]);
  assert.deepEqual(values("StateDirectoryMode"), ["0700"]);
  assert.deepEqual(values("UMask"), ["0077"]);
  assert.ok(
    values("LoadCredential").some((value) => value.startsWith("secret_key:")),
    "the store's key comes as a credential",
  );
  assert.deepEqual(values("ExecReload"), ["/bin/kill -HUP $MAINPID"]);
  for (const key of ["NoNewPrivileges", "ProtectHome", "PrivateTmp"]) assert.deepEqual(values(key), ["true"], key);
  assert.deepEqual(values("ProtectSystem"), ["strict"]);
  // The documentation shows the config line that reads the credential the unit loads.
  assert.match(readFileSync(DOCS, "utf8"), /\$\{file:\$CREDENTIALS_DIRECTORY\/secret_key\}/);
});

test("systemd-analyze verify accepts the unit", {
  skip: spawnSync("systemd-analyze", ["--version"]).error ? "systemd-analyze is not installed" : false,
}, () => {
  const result = spawnSync("systemd-analyze", ["verify", UNIT], { encoding: "utf8" });
  assert.equal(`${result.stdout}${result.stderr}`.trim(), "", "systemd-analyze printed warnings");
  assert.equal(result.status, 0);
});
