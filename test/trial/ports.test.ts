// Servers on loopback ports that another program may hold: the trial's fixed ports, and ports
// picked free that another test process takes before the server binds them.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LocalDovecot } from "../../src/trial/dovecot.js";
import { PortTakenError, freePort, portFree, startOnFreePorts } from "../../src/trial/ports.js";
import { LocalProsody } from "../../src/trial/prosody.js";

async function holdPort(port = 0): Promise<Server & { port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address();
  return Object.assign(server, { port: typeof address === "object" && address ? address.port : 0 });
}

test("a Prosody told to listen on a port another program holds fails and names the port, instead of running without it", async (t) => {
  const held = await holdPort();
  const dir = mkdtempSync(join(tmpdir(), "switchboard-ports-"));
  t.after(() => {
    held.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const c2sPort = await freePort();
  const prosody = new LocalProsody({
    dir,
    domain: "example.test",
    components: [{ domain: "gw.example.test", secret: "s" }],
    c2sPort,
    componentPort: held.port,
  });
  await assert.rejects(prosody.start(), (error: Error) => error instanceof PortTakenError && error.message.includes(`127.0.0.1:${held.port}`));
  assert.equal(await portFree(c2sPort), true, "the Prosody that could not take its port is stopped");
});

test("a Dovecot whose port another program holds fails and names the port", async (t) => {
  const held = await holdPort();
  const dovecot = new LocalDovecot();
  t.after(async () => {
    held.close();
    await dovecot.stop();
    rmSync(dovecot.dir, { recursive: true, force: true });
  });
  dovecot.imapPort = await freePort();
  dovecot.lmtpPort = held.port;
  await assert.rejects(dovecot.start(), (error: Error) => error instanceof PortTakenError && error.message.includes(`127.0.0.1:${held.port}`));
});

test("a port taken between the pick and the bind is picked again, and the server starts on the new one", async (t) => {
  const held: Array<Server & { port: number }> = [];
  let listening: (Server & { port: number }) | undefined;
  t.after(() => {
    for (const server of held) server.close();
    listening?.close();
  });
  let picks = 0;
  await startOnFreePorts(
    async () => {
      const port = await freePort();
      picks += 1;
      // Another program is quicker on the first pick.
      if (picks === 1) held.push(await holdPort(port));
      try {
        listening = await holdPort(port);
      } catch {
        throw new PortTakenError(`port ${port} is taken`);
      }
    },
    () => true,
  );
  assert.equal(picks, 2);
  const [taken] = held;
  assert.ok(taken && listening && listening.port !== taken.port, "the server listens on a port other than the taken one");
});

/** How many times startOnFreePorts tries a start that always fails with `error`. */
async function triesOf(error: Error, forget: () => boolean): Promise<number> {
  let tries = 0;
  const start = async (): Promise<void> => {
    tries += 1;
    throw error;
  };
  await assert.rejects(startOnFreePorts(start, forget), error);
  return tries;
}

test("a port that stays taken is given up on after three tries, and other failures are not tried again", async () => {
  assert.equal(await triesOf(new PortTakenError("taken"), () => true), 3);
  assert.equal(await triesOf(new Error("bad config"), () => true), 1);
  assert.equal(await triesOf(new PortTakenError("fixed port taken"), () => false), 1, "ports the caller fixed are not picked again");
});
