// LMTP → XMPP: the gateway in hosted mode with its LMTP listener, fed `count` mails for one user by
// 8 LMTP connections (as an MTA's LMTP client keeps them), until the Jabber user has received each;
// latency is each mail's LMTP reply time (the 250 comes once the mail is stored). Baseline: a bare
// smtp-server LMTP listener that parses each mail with mailparser, fed the same mails the same way.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { freePort } from "../../src/trial/ports.js";
import { createDatabase } from "../../test/support/postgres.js";
import { runChild } from "../child.js";
import { type MachineUse, machineWindow } from "../machine-cpu.js";
import { gatewayConfig } from "../gateway-config.js";
import { GatewayProcess } from "../gateway-process.js";
import { benchMail } from "../mail-fill.js";
import { inParallel } from "../parallel.js";
import { deadlineFor, type BenchContext, type Scenario } from "../scenario.js";
import { COMPONENTS, LOADER, SECRET } from "../servers.js";
import { nowMs, percentile } from "../stats.js";
import { Tally } from "../tally.js";
import { ratioResult } from "../throughput.js";
import { login, register, watchMessages } from "../xmpp-load.js";

const HOSTED_DOMAIN = "hosted.bench.test";
const WORKERS = 8;

interface Fed {
  latencies: number[];
  failures: string[];
  startedAt: number;
  finishedAt: number;
}

/** Hands `count` mails for `to` to the LMTP listener on `port`, WORKERS connections at once. */
async function feed(port: number, to: string, count: number, tag: number, onSent: (index: number, at: number) => void): Promise<Fed> {
  const transports = Array.from({ length: WORKERS }, () =>
    nodemailer.createTransport({ host: "127.0.0.1", port, lmtp: true, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, maxMessages: Infinity }),
  );
  const latencies: number[] = [];
  const failures: string[] = [];
  const startedAt = nowMs();
  try {
    await inParallel(count, WORKERS, async (index) => {
      const sent = nowMs();
      onSent(index, sent);
      try {
        const info = await transports[index % WORKERS]!.sendMail({
          envelope: { from: `sender${index % 50}@elsewhere.test`, to: [to] },
          raw: benchMail(to, tag, index),
        });
        latencies.push(nowMs() - sent);
        if (info.accepted.length !== 1 && failures.length < 10) failures.push(`refused: ${info.response}`);
      } catch (error) {
        if (failures.length < 10) failures.push(String(error));
      }
    });
  } finally {
    for (const transport of transports) transport.close();
  }
  return { latencies, failures, startedAt, finishedAt: nowMs() };
}

/** A gateway whose e-mail transport serves HOSTED_DOMAIN over LMTP on `lmtpPort`. */
async function startLmtpGateway(ctx: BenchContext, lmtpPort: number): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(ctx.tmp, `gw-${ctx.tag}-`));
  const httpPort = await freePort();
  const config = gatewayConfig({
    servers: ctx.servers,
    dir,
    httpPort,
    transport: "email",
    logLevel: ctx.logLevel,
    sync: ctx.sync,
    ...(ctx.store === "postgresql" && { storeUri: await createDatabase() }),
  });
  config.transports = {
    email: {
      domain: COMPONENTS.email,
      secret: SECRET,
      mode: "hosted",
      hosted: {
        domain: HOSTED_DOMAIN,
        lmtp: { port: lmtpPort },
        smtp: { host: "127.0.0.1", port: ctx.servers.smtp.port, security: "none" },
      },
    },
  };
  const gateway = new GatewayProcess({ distDir: ctx.distDir, dir, httpPort, config, nodeFlags: ctx.nodeFlags });
  try {
    await gateway.start();
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return gateway;
}

export const lmtpToXmpp: Scenario = {
  id: "lmtp-to-xmpp",
  title: "LMTP → XMPP",
  baseline: "bare smtp-server LMTP listener + mailparser",
  target: { kind: "min-ratio", value: 0.7 },
  async run(ctx) {
    const { servers, count, tag } = ctx;
    const problems: string[] = [];
    const lmtpPort = await freePort();
    const gateway = await startLmtpGateway(ctx, lmtpPort);
    const tally = new Tally(tag, count);
    const client = await login(servers.prosody.c2sPort, LOADER).catch(async (error: unknown) => {
      await gateway.stop();
      throw error;
    });
    const inbound = { onBody: (body: string, at: number) => void tally.seen(body, at), errors: [] as string[] };
    const unwatch = watchMessages(client, inbound);
    const address = `in${tag}@${HOSTED_DOMAIN}`;
    let fed: Fed;
    let peakRssKb = 0;
    let gatewayCpuMs = Number.NaN;
    let machineUse: MachineUse | undefined;
    try {
      await register(client, COMPONENTS.email, { address: `in${tag}` });
      const cpuBefore = gateway.cpuMs();
      const machine = machineWindow(gateway.pid);
      fed = await feed(lmtpPort, address, count, tag, (index, at) => tally.sent(index, at));
      await tally.settle(deadlineFor(count));
      gatewayCpuMs = gateway.cpuMs() - cpuBefore;
      machineUse = machine.end();
      peakRssKb = gateway.memory().peakKb;
    } finally {
      unwatch();
      await client.stop();
      await gateway.stop();
    }
    if (fed.failures.length > 0) problems.push(`mails not answered 250: ${fed.failures.join("; ")}`);
    if (inbound.errors.length > 0) problems.push(`${inbound.errors.length} error stanzas, first: ${inbound.errors[0]}`);

    const bare = runChild<{ answered: number; refused: number; cpuMs: number }>(ctx.distDir, "lmtp-sink", {}, deadlineFor(count));
    const { port } = await bare.ready;
    let base: Fed;
    try {
      if (typeof port !== "number") throw new Error("the bare LMTP listener did not start");
      base = await feed(port, address, count, tag + 50_000, () => undefined);
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
      latencies: fed.latencies,
      cpu: { gatewayMs: gatewayCpuMs, baselineMs: answered.cpuMs, machine: machineUse },
      details: { endToEndP50Ms: percentile(run.latencies, 50), endToEndP99Ms: percentile(run.latencies, 99), baselineP99Ms: percentile(base.latencies, 99) },
    });
  },
};
