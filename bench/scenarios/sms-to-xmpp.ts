// SMS webhook → XMPP: signed inbound-text webhooks, 50 at a time, until the Jabber user has received
// each; latency is the webhook's response time (Twilio gives up after 15 s). Baseline: a bare Node
// HTTP server that only checks the signature and answers, fed the same webhooks the same way.
import { runChild } from "../child.js";
import { type MachineUse, machineWindow } from "../machine-cpu.js";
import { inParallel } from "../parallel.js";
import { deadlineFor, startGateway, type Scenario } from "../scenario.js";
import { COMPONENTS, LOADER, SMS_NUMBER, type Servers } from "../servers.js";
import { nowMs, percentile } from "../stats.js";
import { Tally, tokenOf } from "../tally.js";
import { ratioResult } from "../throughput.js";
import { login, register, watchMessages } from "../xmpp-load.js";
import { CONCURRENCY } from "./xmpp-to-sms.js";

const PEERS = Array.from({ length: 50 }, (_unused, index) => `+1415555${String(3000 + index)}`);

interface Fired {
  latencies: number[];
  failures: string[];
  startedAt: number;
  finishedAt: number;
}

/** Posts `count` signed webhooks to `url`, `CONCURRENCY` at a time, as Twilio would. */
async function fire(servers: Servers, url: string, count: number, tag: number, onSent: (index: number, at: number) => void): Promise<Fired> {
  const latencies: number[] = [];
  const failures: string[] = [];
  const startedAt = nowMs();
  await inParallel(count, CONCURRENCY, async (index) => {
    const sent = nowMs();
    onSent(index, sent);
    try {
      const answer = await servers.twilio.sendInbound({
        accountSid: servers.operator.sid,
        from: PEERS[index % PEERS.length]!,
        to: SMS_NUMBER,
        body: `Bench ${tokenOf(tag, index)}`,
        url,
        messageSid: `SM${tag.toString(16).padStart(8, "0")}${index.toString(16).padStart(24, "0")}`,
      });
      latencies.push(nowMs() - sent);
      if (answer.status !== 200 && failures.length < 10) failures.push(`HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
    } catch (error) {
      if (failures.length < 10) failures.push(String(error));
    }
  });
  return { latencies, failures, startedAt, finishedAt: nowMs() };
}

export const smsToXmpp: Scenario = {
  id: "sms-to-xmpp",
  title: "SMS webhook → XMPP",
  baseline: "bare HTTP server checking the signature",
  target: { kind: "min-ratio", value: 0.5 },
  async run(ctx) {
    const { servers, count, tag } = ctx;
    const problems: string[] = [];
    const gateway = await startGateway(ctx, "sms");
    const tally = new Tally(tag, count);
    let fired: Fired;
    let peakRssKb = 0;
    let gatewayCpuMs = Number.NaN;
    let machineUse: MachineUse | undefined;
    const client = await login(servers.prosody.c2sPort, LOADER).catch(async (error: unknown) => {
      await gateway.stop();
      throw error;
    });
    const inbound = { onBody: (body: string, at: number) => void tally.seen(body, at), errors: [] as string[] };
    const unwatch = watchMessages(client, inbound);
    try {
      await register(client, COMPONENTS.sms, { number: SMS_NUMBER });
      const url = `http://127.0.0.1:${gateway.options.httpPort}/sms/${COMPONENTS.sms}/incoming`;
      const cpuBefore = gateway.cpuMs();
      const machine = machineWindow(gateway.pid);
      fired = await fire(servers, url, count, tag, (index, at) => tally.sent(index, at));
      await tally.settle(deadlineFor(count));
      gatewayCpuMs = gateway.cpuMs() - cpuBefore;
      machineUse = machine.end();
      peakRssKb = gateway.memory().peakKb;
    } finally {
      unwatch();
      await client.stop();
      await gateway.stop();
    }
    if (fired.failures.length > 0) problems.push(`webhooks not answered 200: ${fired.failures.join("; ")}`);
    if (inbound.errors.length > 0) problems.push(`${inbound.errors.length} error stanzas, first: ${inbound.errors[0]}`);

    const bare = runChild<{ answered: number; refused: number; cpuMs: number }>(
      ctx.distDir,
      "bare-webhook",
      { authToken: servers.operator.authToken },
      deadlineFor(count),
    );
    const { port } = await bare.ready;
    let base: Fired;
    try {
      if (typeof port !== "number") throw new Error("the bare webhook server did not start");
      base = await fire(servers, `http://127.0.0.1:${port}/sms/incoming`, count, tag + 50_000, () => undefined);
    } finally {
      bare.stop();
    }
    const answered = await bare.result;
    if (answered.answered !== count || base.failures.length > 0)
      problems.push(`baseline answered ${answered.answered} of ${count}: ${base.failures.join("; ")}`);
    const run = tally.summary();
    return ratioResult({
      run,
      problems,
      peakRssKb,
      count,
      baselineMs: base.finishedAt - base.startedAt,
      latencies: fired.latencies,
      cpu: { gatewayMs: gatewayCpuMs, baselineMs: answered.cpuMs, machine: machineUse },
      details: { endToEndP50Ms: percentile(run.latencies, 50), endToEndP99Ms: percentile(run.latencies, 99), baselineP99Ms: percentile(base.latencies, 99) },
    });
  },
};
