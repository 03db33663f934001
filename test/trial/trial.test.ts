import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { portOpen } from "../../src/trial/ports.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient, xml } from "../support/xmpp-client.js";

const CLI = new URL("../../src/cli.js", import.meta.url).pathname;
// SWITCHBOARD_CLI names an installed `switchboard` command instead (.ci/package runs this test
// against the packed tarball installed into a prefix, on Node 20 and on Node 24).
const [command, ...prefix] = process.env.SWITCHBOARD_CLI ? [process.env.SWITCHBOARD_CLI] : ["node", CLI];

interface TrialState {
  users: Record<string, string>;
  c2sPort: number;
  httpPort: number;
}

interface RunningTrial {
  state: TrialState;
  stderr(): string;
  /** Ctrl-C; resolves to the exit code. */
  interrupt(): Promise<number | null>;
  kill(): void;
}

/** Starts `switchboard trial --dir DIR` and waits until its gateway reports healthy. */
async function startTrial(dir: string): Promise<RunningTrial> {
  const child = spawn(command!, [...prefix, "trial", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const kill = (): void => {
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  const deadline = Date.now() + 30_000;
  // The state file may be an earlier run's until the banner is out: the ports can move.
  while (Date.now() < deadline && child.exitCode === null) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (!stderr.includes("Switchboard trial")) continue;
    const state = JSON.parse(readFileSync(join(dir, "trial.json"), "utf8")) as TrialState;
    const health = await fetch(`http://127.0.0.1:${state.httpPort}/healthz`).then(
      (response) => response.json() as Promise<{ status: string }>,
      () => undefined,
    );
    if (health?.status === "ok") {
      return {
        state,
        stderr: () => stderr,
        interrupt: async () => {
          child.kill("SIGINT");
          return exited;
        },
        kill,
      };
    }
  }
  kill();
  throw new Error(`the trial did not come up: ${stderr}`);
}

test("`switchboard trial` brings up Prosody and the gateway; a client finds both transports; Ctrl-C stops everything", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-trial-"));
  let trial: RunningTrial | undefined;
  try {
    trial = await startTrial(dir);
    const { state } = trial;
    assert.match(trial.stderr(), new RegExp(`alice@localhost\\s+password: ${state.users.alice}`));

    // The trial's certificate is self-signed; this client takes it (trial-with-mail.test.ts checks it).
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    const alice = await TestClient.login(state.c2sPort, "localhost", "alice", state.users.alice!);
    assert.equal(alice.encrypted, true, "the login went over TLS");
    const items = await alice.iq(xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#items" })));
    const jids = items
      .getChild("query")!
      .getChildren("item")
      .map((item) => item.attrs.jid);
    assert.ok(jids.includes("email.localhost") && jids.includes("sms.localhost"), jids.join(", "));
    const form = await alice.iq(xml("iq", { type: "get", to: "sms.localhost" }, xml("query", { xmlns: "jabber:iq:register" })));
    assert.equal(form.attrs.type, "result");
    await alice.stop();

    assert.equal(await trial.interrupt(), 0);
    assert.equal(await portOpen(state.c2sPort), false, "Prosody stops with the gateway");
  } finally {
    trial?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a trial run again after another program took its ports moves to free ones, says so, and the same login works there", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-trial-"));
  const holders: Server[] = [];
  let trial: RunningTrial | undefined;
  try {
    trial = await startTrial(dir);
    const first = trial.state;
    assert.equal(await trial.interrupt(), 0);
    for (const port of [first.c2sPort, first.httpPort]) {
      const holder = createServer((socket) => socket.end("not an XMPP server\n"));
      await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", resolve));
      holders.push(holder);
    }

    trial = await startTrial(dir);
    const second = trial.state;
    assert.notEqual(second.c2sPort, first.c2sPort);
    assert.notEqual(second.httpPort, first.httpPort);
    assert.match(
      trial.stderr(),
      new RegExp(
        `127\\.0\\.0\\.1:${first.c2sPort} is held by another program now; the XMPP server \\(Prosody\\) for your Jabber client moved to 127\\.0\\.0\\.1:${second.c2sPort}`,
      ),
    );
    assert.match(trial.stderr(), new RegExp(`on 127\\.0\\.0\\.1:${second.c2sPort} for localhost`), "the banner names the new port");
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    const alice = await TestClient.login(second.c2sPort, "localhost", "alice", first.users.alice!);
    assert.equal(alice.encrypted, true);
    await alice.stop();
    assert.equal(await trial.interrupt(), 0);
  } finally {
    trial?.kill();
    for (const holder of holders) holder.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
