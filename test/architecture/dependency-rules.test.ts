// The dependency rules (.dependency-cruiser.cjs) hold for the code as it is, and each one fails
// when it is broken: a small tree of files that breaks every rule once is cruised with the same
// configuration, and each rule must name its offender.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

// <build>/test/architecture -> the repository.
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEPCRUISE = join(ROOT, "node_modules", ".bin", "depcruise");
const CONFIG = join(ROOT, ".dependency-cruiser.cjs");
const run = promisify(execFile);

async function cruise(cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(DEPCRUISE, ["src", "transports", "--config", CONFIG, "--output-type", "err"], { cwd });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test("the code as it is keeps every dependency rule", async () => {
  const { code, output } = await cruise(ROOT);
  assert.equal(code, 0, output);
  assert.match(output, /no dependency violations found \([1-9]\d+ modules/);
});

test("each rule fails when it is broken", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-deps-"));
  dirs.push(dir);
  const files: Record<string, string> = {
    "tsconfig.json": JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", strict: true } }),
    "src/transport/index.ts": "export type Contract = { name: string };\n",
    "src/gateway/handler.ts": "export const handle = (): void => undefined;\n",
    // the core reaching into a transport
    "src/gateway/knows-email.ts": 'import { send } from "../../transports/email/index.js";\nexport const use = send;\n',
    // the store reaching up into the gateway
    "src/store/knows-gateway.ts": 'import { handle } from "../gateway/handler.js";\nexport const use = handle;\n',
    // a transport past the SDK, and into another transport
    "transports/email/index.ts":
      'import { handle } from "../../src/gateway/handler.js";\nimport type { Contract } from "../../src/transport/index.js";\nexport const send = handle;\nexport type C = Contract;\n',
    "transports/sms/index.ts": 'import { send } from "../email/index.js";\nexport const text = send;\n',
    // a cycle
    "src/gateway/a.ts": 'import { b } from "./b.js";\nexport const a = (): unknown => b;\n',
    "src/gateway/b.ts": 'import { a } from "./a.js";\nexport const b = (): unknown => a;\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const { code, output } = await cruise(dir);
  assert.notEqual(code, 0, "a broken rule fails the check");
  for (const [rule, offender] of [
    ["transport-only-through-sdk", "transports/email/index.ts → src/gateway/handler.ts"],
    ["core-never-imports-a-transport", "src/gateway/knows-email.ts → transports/email/index.ts"],
    ["transports-stay-apart", "transports/sms/index.ts → transports/email/index.ts"],
    ["store-below-gateway", "src/store/knows-gateway.ts → src/gateway/handler.ts"],
    ["no-cycles", "src/gateway/"],
  ] as const) {
    assert.ok(
      output.split("\n").some((line) => line.includes(rule) && line.includes(offender)),
      `${rule} names ${offender}:\n${output}`,
    );
  }
  assert.equal(output.includes("transports/email/index.ts → src/transport/index.ts"), false, "the SDK itself is allowed");
});
