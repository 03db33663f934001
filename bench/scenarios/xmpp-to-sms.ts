// XMPP → SMS: chat messages from one Jabber user to 50 phone contacts, until the Twilio stand-in
// holds each. Baseline: the twilio SDK alone sending the same texts to the same stand-in.
import { runChild } from "../child.js";
import { type MachineUse, machineWindow } from "../machine-cpu.js";
import { observePushes } from "../observe.js";
import { deadlineFor, startGateway, type Scenario } from "../scenario.js";
import { ratioResult } from "../throughput.js";
import { COMPONENTS, LOADER, SMS_NUMBER } from "../servers.js";
import { pump, Tally, tokenOf } from "../tally.js";
import { chat, login, register, watchMessages } from "../xmpp-load.js";

const PEERS = Array.from({ length: 50 }, (_unused, index) => `+1415555${String(2000 + index)}`);
/** Messages a client keeps unconfirmed at once; the baselines use the same concurrency. */
export const WINDOW = 100;
export const CONCURRENCY = 50;

export const xmppToSms: Scenario = {
  id: "xmpp-to-sms",
  title: "XMPP → SMS",
  baseline: "twilio SDK alone → stand-in",
  target: { kind: "min-ratio", value: 0.7 },
  async run(ctx) {
    const { servers, count, tag } = ctx;
    const problems: string[] = [];
    const gateway = await startGateway(ctx, "sms");
    const tally = new Tally(tag, count);
    const unobserve = observePushes(servers.twilio.messages, (message) => tally.seen(message.body));
    const client = await login(servers.prosody.c2sPort, LOADER).catch(async (error: unknown) => {
      await gateway.stop();
      throw error;
    });
    const inbound = { onBody: () => undefined, errors: [] as string[] };
    const unwatch = watchMessages(client, inbound);
    let peakRssKb = 0;
    let gatewayCpuMs = Number.NaN;
    let machineUse: MachineUse | undefined;
    try {
      await register(client, COMPONENTS.sms, { number: SMS_NUMBER });
      const cpuBefore = gateway.cpuMs();
      const machine = machineWindow(gateway.pid);
      await pump({
        tally,
        count,
        window: WINDOW,
        stallMs: 30_000,
        send: (index) => client.send(chat(`${PEERS[index % PEERS.length]}@${COMPONENTS.sms}`, `Bench ${tokenOf(tag, index)}`, `m-${tag}-${index}`)),
      });
      await tally.settle(deadlineFor(count));
      gatewayCpuMs = gateway.cpuMs() - cpuBefore;
      machineUse = machine.end();
      peakRssKb = gateway.memory().peakKb;
    } finally {
      unwatch();
      unobserve();
      await client.stop();
      await gateway.stop();
    }
    const run = tally.summary();
    if (inbound.errors.length > 0) problems.push(`${inbound.errors.length} error stanzas, first: ${inbound.errors[0]}`);

    // Baseline: the same texts, a run tag of their own, 50 at a time like 50 conversations.
    const baseTag = tag + 50_000;
    const baseTally = new Tally(baseTag, count);
    const unobserveBase = observePushes(servers.twilio.messages, (message) => baseTally.seen(message.body));
    let baseline;
    try {
      baseline = await runChild<{ startedAt: number; failed: number; cpuMs: number }>(
        ctx.distDir,
        "twilio-sdk",
        {
          baseUrl: servers.twilio.baseUrl,
          accountSid: servers.operator.sid,
          authToken: servers.operator.authToken,
          from: SMS_NUMBER,
          peers: PEERS,
          count,
          tag: baseTag,
          concurrency: CONCURRENCY,
          statusCallback: "http://127.0.0.1:9/status",
        },
        deadlineFor(count),
      ).result;
      await baseTally.settle(10_000);
    } finally {
      unobserveBase();
    }
    // The baseline's clock starts when the child began sending and stops at the last arrival.
    baseTally.start(baseline.startedAt);
    const base = baseTally.summary();
    if (base.lost > 0 || baseline.failed > 0) problems.push(`baseline lost ${base.lost} (failed ${baseline.failed})`);
    return ratioResult({
      run,
      problems,
      peakRssKb,
      baselineMs: base.elapsedMs,
      count,
      cpu: { gatewayMs: gatewayCpuMs, baselineMs: baseline.cpuMs, machine: machineUse },
    });
  },
};
