// The transport kit against the loopback transport, loaded as an outside module would be: through
// the `module:` key of its config section, from its compiled file, by path.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startHarness } from "../support/harness.js";
import { LoopbackNetwork } from "./loopback-network.js";
import { transportKit } from "./transport-kit.js";

const LOOP = "loop.example.test";
const MODULE = fileURLToPath(new URL("./loopback-transport.js", import.meta.url));
// From the compiled test (.build-*/test/kit/ or dist/test/kit/) back to the source in the repository.
const SOURCE = new URL("../../../test/kit/loopback-transport.ts", import.meta.url);

// The rule `npm run lint:deps` enforces on transports/ (it does not look into test/), read from the source.
test("the loopback transport uses the core only through src/transport/", () => {
  const imports = [...readFileSync(SOURCE, "utf8").matchAll(/^import [^;]*? from "([^"]+)";$/gms)].map((match) => match[1]!);
  assert.ok(imports.length > 0);
  for (const path of imports) assert.ok(!path.startsWith(".") || path === "../../src/transport/index.js", `imports ${path}`);
});

transportKit({
  name: "loopback (loaded with module:)",
  receipts: true,
  async start() {
    const network = new LoopbackNetwork();
    await network.start();
    network.addAccount("juliet", "juliet-password");
    network.addAccount("romeo", "romeo-password");
    const h = await startHarness({ transports: { loopback: { domain: LOOP, options: { module: MODULE, network: network.url, token: network.token } } } }).catch(
      async (error: unknown) => {
        await network.stop();
        throw error;
      },
    );
    return {
      h,
      domain: LOOP,
      account: (user) => ({ account: user, password: `${user}-password` }),
      wrongAccount: (user) => ({ account: user, password: "not-the-password" }),
      peer: (n) => `peer-${n}`,
      carried: async (peer) => network.to(peer).map(({ id, body }) => ({ id, body })),
      async send(peer, user, body) {
        network.carry(peer, user, body);
      },
      // The network reports each message delivered by itself, once its peer has read it.
      reportDelivered: async () => undefined,
      async stop() {
        await h.stop();
        await network.stop();
      },
    };
  },
});
