// The transport kit against the loopback transport, loaded as an outside module would be: through
// the `module:` key of its config section, from its compiled file, by path.
import { fileURLToPath } from "node:url";
import { startHarness } from "../support/harness.js";
import { LoopbackNetwork } from "./loopback-network.js";
import { transportKit } from "./transport-kit.js";

const LOOP = "loop.example.test";
const MODULE = fileURLToPath(new URL("./loopback-transport.js", import.meta.url));

transportKit({
  name: "loopback (loaded with module:)",
  receipts: true,
  async start() {
    const network = new LoopbackNetwork();
    await network.start();
    network.addAccount("juliet", "juliet-password");
    network.addAccount("romeo", "romeo-password");
    const h = await startHarness({ transports: { loopback: { domain: LOOP, options: { module: MODULE, network: network.url, token: network.token } } } }).catch(async (error: unknown) => {
      await network.stop();
      throw error;
    });
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
