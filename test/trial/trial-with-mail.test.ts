// `switchboard trial --with-mail`, used as a newcomer would: Alice and Bob log in with a client that
// insists on TLS, register their local mailboxes with the e-mail transport through its form, and
// write to each other's mail address. Each message goes the real way (XMPP → gateway → SMTP
// submission → Dovecot → IMAP IDLE → gateway → XMPP) and arrives as a chat from the other's
// address. Ctrl-C stops everything the trial started.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, portOpen } from "../../src/trial/ports.js";

const CLI = new URL("../../src/cli.js", import.meta.url).pathname;
// The script sits next to this file's source: <build>/test/trial -> test/trial.
const CLIENT = fileURLToPath(new URL("../../../test/trial/tls-client.py", import.meta.url));

interface TrialState {
  users: Record<string, string>;
  c2sPort: number;
  httpPort: number;
  mail?: { passwords: Record<string, string>; imapPort: number; smtpPort: number };
}

interface Client {
  steps: Array<Record<string, unknown>>;
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
}

function startClient(user: string, state: TrialState, dir: string): Client {
  const mail = state.mail!;
  const fields = {
    address: `${user}@localhost`,
    imap_host: "127.0.0.1",
    imap_port: String(mail.imapPort),
    imap_security: "none",
    smtp_host: "127.0.0.1",
    smtp_port: String(mail.smtpPort),
    smtp_security: "none",
    password: mail.passwords[user]!,
  };
  const child = spawn("/usr/bin/python3", [
    CLIENT,
    `${user}@localhost`,
    state.users[user]!,
    String(state.c2sPort),
    join(dir, "localhost.crt"),
    "email.localhost",
    JSON.stringify(fields),
  ]);
  const steps: Array<Record<string, unknown>> = [];
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let partial = "";
  child.stdout.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines.filter(Boolean)) steps.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { steps, child, stderr: () => stderr };
}

async function waitForStep(
  client: Client,
  match: (step: Record<string, unknown>) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = client.steps.find(match);
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(`${what}: not seen in ${timeoutMs} ms; steps ${JSON.stringify(client.steps)}; stderr ${client.stderr().slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The stream features the server offers before TLS: a client must not be able to log in there. */
function featuresBeforeTls(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("connect", () =>
      socket.write("<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"),
    );
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("</stream:features>")) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on("error", reject);
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`no stream features: ${text}`));
    }, 10_000).unref();
  });
}

test("trial --with-mail: Alice and Bob, over TLS only, write to each other's mailbox and get the answers as chats", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-trial-mail-"));
  // The trial prefers well-known ports (5222, 1143, 1587) when free; trial.test.ts may start one
  // alongside this file and take a port right after this trial freed it, which would read here as
  // "still listening". A state of this trial's own with free ports keeps the two apart.
  const word = () => randomBytes(12).toString("base64url");
  const ports = { c2sPort: await freePort(), componentPort: await freePort(), httpPort: await freePort() };
  const mailPorts = { imapPort: await freePort(), lmtpPort: await freePort(), smtpPort: await freePort() };
  writeFileSync(
    join(dir, "trial.json"),
    JSON.stringify({
      users: { alice: word(), bob: word() },
      componentSecret: word(),
      secretKey: randomBytes(24).toString("base64url"),
      ...ports,
      mail: { passwords: { alice: word(), bob: word() }, ...mailPorts },
    }),
    { mode: 0o600 },
  );
  const trial = spawn("node", [CLI, "trial", "--dir", dir, "--with-mail"], { stdio: ["ignore", "pipe", "pipe"] });
  let banner = "";
  trial.stderr.on("data", (chunk: Buffer) => (banner += chunk.toString()));
  trial.stdout.resume();
  const exited = new Promise<number | null>((resolve) => trial.once("exit", resolve));
  const clients: Client[] = [];
  try {
    const deadline = Date.now() + 60_000;
    let state: TrialState | undefined;
    let healthy = false;
    while (!healthy && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (!state?.mail && existsSync(join(dir, "trial.json"))) state = JSON.parse(readFileSync(join(dir, "trial.json"), "utf8")) as TrialState;
      if (state?.mail) {
        const health = await fetch(`http://127.0.0.1:${state.httpPort}/healthz`).then(
          (response) => response.json() as Promise<{ status: string }>,
          () => undefined,
        );
        healthy = health?.status === "ok";
      }
    }
    assert.ok(state?.mail && healthy, `the trial did not come up: ${banner}`);
    const mail = state.mail;

    // The banner says what to type, and the certificate's fingerprint to compare.
    assert.match(banner, new RegExp(`alice@localhost\\s+password: ${state.users.alice}`));
    assert.match(banner, new RegExp(`bob@localhost\\s+password: ${mail.passwords.bob}`));
    assert.match(banner, new RegExp(`IMAP port: ${mail.imapPort}`));
    assert.match(banner, /SHA-256 fingerprint:\s+([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    assert.match(banner, /bob\\40localhost@email\.localhost/);

    // Before TLS the server offers STARTTLS and no way to log in.
    const features = await featuresBeforeTls(state.c2sPort);
    assert.match(features, /urn:ietf:params:xml:ns:xmpp-tls/);
    assert.doesNotMatch(features, /<mechanism>/, "no SASL mechanism is offered before TLS");

    const alice = startClient("alice", state, dir);
    const bob = startClient("bob", state, dir);
    clients.push(alice, bob);
    for (const [name, client] of [
      ["alice", alice],
      ["bob", bob],
    ] as const) {
      await waitForStep(client, (step) => step.step === "tls", `${name}'s TLS`);
      const registered = await waitForStep(client, (step) => step.step === "registered", `${name}'s registration`);
      assert.equal(registered.type, "result", `${name} registered: ${JSON.stringify(registered)}`);
    }

    alice.child.stdin.write("send bob\\40localhost@email.localhost Hello Bob, this is Alice by mail\n");
    const atBob = await waitForStep(bob, (step) => step.step === "received" && String(step.body).includes("Hello Bob"), "Alice's mail at Bob's client");
    assert.equal(atBob.sender, "alice\\40localhost@email.localhost");

    bob.child.stdin.write("send alice\\40localhost@email.localhost Hello Alice, Bob here\n");
    const atAlice = await waitForStep(alice, (step) => step.step === "received" && String(step.body).includes("Hello Alice"), "Bob's answer at Alice's client");
    assert.equal(atAlice.sender, "bob\\40localhost@email.localhost");

    for (const client of clients) client.child.stdin.end("quit\n");
    trial.kill("SIGINT");
    assert.equal(await exited, 0, banner);
    for (const [what, port] of [
      ["Prosody", state.c2sPort],
      ["the gateway", state.httpPort],
      ["Dovecot", mail.imapPort],
      ["the submission server", mail.smtpPort],
    ] as const) {
      assert.equal(await portOpen(port), false, `${what} stops with the trial`);
    }
  } finally {
    for (const client of clients) client.child.kill("SIGKILL");
    if (trial.exitCode === null) trial.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
