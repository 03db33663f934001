// E-mail → XMPP: a personal mailbox holding `count` new mails, drained by the gateway until the
// Jabber user has received each. The gateway is registered and watching (IDLE) first, then frozen
// (SIGSTOP) while the mails are put in by LMTP, then thawed: the clock runs from the thaw.
// Baseline: imapflow alone fetching and parsing the same mails, in its own process.
import { runChild } from "../child.js";
import { type MachineUse, machineWindow } from "../machine-cpu.js";
import { mailboxFields } from "../gateway-config.js";
import { fillMailbox } from "../mail-fill.js";
import { deadlineFor, startGateway, type Scenario } from "../scenario.js";
import { COMPONENTS, LOADER, PASSWORD } from "../servers.js";
import { nowMs } from "../stats.js";
import { Tally } from "../tally.js";
import { ratioResult } from "../throughput.js";
import { login, register, watchMessages } from "../xmpp-load.js";

export const emailToXmpp: Scenario = {
  id: "email-to-xmpp",
  title: "e-mail → XMPP",
  baseline: "imapflow alone fetching + parsing",
  target: { kind: "min-ratio", value: 0.7 },
  async run(ctx) {
    const { servers, count, tag } = ctx;
    const problems: string[] = [];
    const address = `in${tag}@bench.test`;
    servers.dovecot.addMailbox(address, PASSWORD);
    const gateway = await startGateway(ctx, "email");
    const tally = new Tally(tag, count);
    const client = await login(servers.prosody.c2sPort, LOADER).catch(async (error: unknown) => {
      await gateway.stop();
      throw error;
    });
    const inbound = { onBody: (body: string, at: number) => void tally.seen(body, at), errors: [] as string[] };
    const unwatch = watchMessages(client, inbound);
    let peakRssKb = 0;
    let baseline: { startedAt: number; finishedAt: number; fetched: number; distinct: number; cpuMs: number };
    let fillMs = 0;
    let gatewayCpuMs = Number.NaN;
    let machineUse: MachineUse | undefined;
    try {
      await register(client, COMPONENTS.email, mailboxFields(servers, address, PASSWORD));
      await waitForSessions(gateway, 1);
      // Let the session go idle (IDLE starts after the transport's idle delay of 1 s).
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const cpuBefore = gateway.cpuMs();
      gateway.pause(true);
      try {
        const filling = nowMs();
        await fillMailbox(servers.dovecot.lmtpPort, address, tag, count);
        fillMs = nowMs() - filling;
        ctx.say(`e-mail → XMPP: ${count} mails in the mailbox in ${(fillMs / 1000).toFixed(1)} s; baseline fetch`);
        // The baseline reads the same mailbox read-only while the gateway is frozen.
        baseline = await runChild<typeof baseline>(
          ctx.distDir,
          "imapflow-fetch",
          { port: servers.dovecot.imapPort, user: address, password: PASSWORD },
          deadlineFor(count),
        ).result;
        if (baseline.distinct !== count) problems.push(`baseline found ${baseline.distinct} of ${count} mails`);
      } finally {
        tally.start();
        gateway.pause(false);
      }
      // From the thaw: the filling and the baseline ran while the gateway was frozen.
      const machine = machineWindow(gateway.pid);
      await tally.settle(deadlineFor(count));
      gatewayCpuMs = gateway.cpuMs() - cpuBefore;
      machineUse = machine.end();
      peakRssKb = gateway.memory().peakKb;
    } finally {
      unwatch();
      await client.stop();
      await gateway.stop();
    }
    if (inbound.errors.length > 0) problems.push(`${inbound.errors.length} error stanzas, first: ${inbound.errors[0]}`);
    const run = tally.summary();
    // Each mail's latency is its wait since the drain began: the mailbox held them all at once.
    return ratioResult({
      run,
      problems,
      peakRssKb,
      count,
      baselineMs: baseline.finishedAt - baseline.startedAt,
      latencies: tally.arrivalsSinceStart(),
      details: { fillMs },
      cpu: { gatewayMs: gatewayCpuMs, baselineMs: baseline.cpuMs, machine: machineUse },
    });
  },
};

/** Waits (bounded) until the gateway reports `count` connected IMAP sessions. */
export async function waitForSessions(
  gateway: { metric(name: string, labels?: Record<string, string>): Promise<number> },
  count: number,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const connected = await gateway.metric("switchboard_transport_sessions", { transport: "email", state: "connected" }).catch(() => 0);
    if (connected >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${connected} of ${count} IMAP sessions connected after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
