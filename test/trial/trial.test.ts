import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { portOpen } from "../../src/trial/ports.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient, xml } from "../support/xmpp-client.js";

const CLI = new URL("../../src/cli.js", import.meta.url).pathname;
// SWITCHBOARD_CLI names an installed `switchboard` command instead (.ci/package runs this test
// against the packed tarball installed into a prefix, on Node 20 and on Node 24).
const [command, ...prefix] = process.env.SWITCHBOARD_CLI ? [process.env.SWITCHBOARD_CLI] : ["node", CLI];

test("`switchboard trial` brings up Prosody and the gateway; a client finds both transports; Ctrl-C stops everything", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-trial-"));
  const child = spawn(command!, [...prefix, "trial", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    const deadline = Date.now() + 30_000;
    let state: { users: Record<string, string>; c2sPort: number; httpPort: number } | undefined;
    let healthy = false;
    while (!healthy && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (!state && existsSync(join(dir, "trial.json"))) state = JSON.parse(readFileSync(join(dir, "trial.json"), "utf8")) as typeof state;
      if (state) {
        const health = await fetch(`http://127.0.0.1:${state.httpPort}/healthz`).then(
          (response) => response.json() as Promise<{ status: string }>,
          () => undefined,
        );
        healthy = health?.status === "ok";
      }
    }
    assert.ok(state && healthy, `the trial did not come up: ${stderr}`);
    assert.match(stderr, new RegExp(`alice@localhost\\s+password: ${state!.users.alice}`));

    // The trial's certificate is self-signed; this client takes it (trial-with-mail.test.ts checks it).
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    const alice = await TestClient.login(state!.c2sPort, "localhost", "alice", state!.users.alice!);
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

    child.kill("SIGINT");
    assert.equal(await exited, 0);
    assert.equal(await portOpen(state!.c2sPort), false, "Prosody stops with the gateway");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
