// XMPP → e-mail: chat messages from one Jabber user (a personal mailbox) to 50 e-mail contacts,
// until the SMTP server has accepted each. Baseline: the slower of (a) the same client through
// Prosody to a bare echo component and back, (b) nodemailer alone sending the same mails to the
// same SMTP server with the gateway's pool size.
import { runChild } from "../child.js";
import { type MachineUse, machineWindow } from "../machine-cpu.js";
import { mailboxFields } from "../gateway-config.js";
import { deadlineFor, startGateway, type Scenario } from "../scenario.js";
import { COMPONENTS, LOADER, PASSWORD, SECRET } from "../servers.js";
import { pump, Tally, tokenOf } from "../tally.js";
import { ratioResult } from "../throughput.js";
import { chat, login, register, watchMessages } from "../xmpp-load.js";
import { CONCURRENCY, WINDOW } from "./xmpp-to-sms.js";

const PEERS = Array.from({ length: 50 }, (_unused, index) => `peer${index}@elsewhere.test`);
/** The gateway's default pool per SMTP account (email.smtp.maxConnections). */
const SMTP_CONNECTIONS = 2;

export const xmppToEmail: Scenario = {
  id: "xmpp-to-email",
  title: "XMPP → e-mail",
  baseline: "slower of: echo component; nodemailer alone",
  target: { kind: "min-ratio", value: 0.7 },
  async run(ctx) {
    const { servers, count, tag } = ctx;
    const problems: string[] = [];
    const address = `out${tag}@bench.test`;
    servers.dovecot.addMailbox(address, PASSWORD);
    const gateway = await startGateway(ctx, "email");
    const tally = new Tally(tag, count);
    servers.smtp.onMail = (raw, at) => void tally.seen(raw, at);
    const client = await login(servers.prosody.c2sPort, LOADER).catch(async (error: unknown) => {
      await gateway.stop();
      throw error;
    });
    const inbound = { onBody: (body: string, at: number) => void echoTally?.seen(body, at), errors: [] as string[] };
    let echoTally: Tally | undefined;
    const unwatch = watchMessages(client, inbound);
    let peakRssKb = 0;
    let echoMs = Number.NaN;
    let gatewayCpuMs = Number.NaN;
    let machineUse: MachineUse | undefined;
    let echoCpuMs = Number.NaN;
    let mailerCpuMs = Number.NaN;
    let mailerMs = Number.NaN;
    try {
      await register(client, COMPONENTS.email, mailboxFields(servers, address, PASSWORD));
      const contact = (index: number): string => `${PEERS[index % PEERS.length]!.replace("@", "\\40")}@${COMPONENTS.email}`;
      const cpuBefore = gateway.cpuMs();
      const machine = machineWindow(gateway.pid);
      await pump({
        tally,
        count,
        window: WINDOW,
        stallMs: 30_000,
        send: (index) => client.send(chat(contact(index), `Bench ${tokenOf(tag, index)}`, `m-${tag}-${index}`)),
      });
      await tally.settle(deadlineFor(count));
      gatewayCpuMs = gateway.cpuMs() - cpuBefore;
      machineUse = machine.end();
      peakRssKb = gateway.memory().peakKb;
      await gateway.stop();
      if (inbound.errors.length > 0) problems.push(`${inbound.errors.length} error stanzas, first: ${inbound.errors[0]}`);

      // (a) The XMPP leg alone: same client, same window, a component that only echoes.
      const echo = runChild<{ echoed: number; cpuMs: number }>(
        ctx.distDir,
        "echo-component",
        { port: servers.prosody.componentPort, domain: COMPONENTS.echo, secret: SECRET },
        deadlineFor(count),
      );
      try {
        const ready = await echo.ready;
        if (!ready.ready) throw new Error(`the echo component did not start: ${String(ready.failed)}`);
        const echoTag = tag + 50_000;
        echoTally = new Tally(echoTag, count);
        const measured = echoTally;
        await pump({
          tally: measured,
          count,
          window: WINDOW,
          stallMs: 30_000,
          send: (index) => client.send(chat(COMPONENTS.echo, `Bench ${tokenOf(echoTag, index)}`, `e-${tag}-${index}`)),
        });
        await measured.settle(deadlineFor(count));
        const summary = measured.summary();
        if (summary.lost > 0 || summary.duplicated > 0) problems.push(`echo baseline lost ${summary.lost}, doubled ${summary.duplicated}`);
        echoMs = summary.elapsedMs;
      } finally {
        echo.stop();
        echoCpuMs = (await echo.result.catch(() => ({ cpuMs: Number.NaN }))).cpuMs;
      }
    } finally {
      unwatch();
      await client.stop();
      await gateway.stop();
    }

    // (b) SMTP alone: nodemailer in its own process, the same mails to the same server.
    const mailTag = tag + 60_000;
    const mailTally = new Tally(mailTag, count);
    servers.smtp.onMail = (raw, at) => void mailTally.seen(raw, at);
    try {
      const result = await runChild<{ startedAt: number; failed: number; cpuMs: number }>(
        ctx.distDir,
        "nodemailer-smtp",
        { port: servers.smtp.port, from: address, peers: PEERS, count, tag: mailTag, concurrency: CONCURRENCY, maxConnections: SMTP_CONNECTIONS },
        deadlineFor(count),
      ).result;
      await mailTally.settle(10_000);
      mailTally.start(result.startedAt);
      const summary = mailTally.summary();
      if (summary.lost > 0 || result.failed > 0) problems.push(`nodemailer baseline lost ${summary.lost} (failed ${result.failed})`);
      mailerMs = summary.elapsedMs;
      mailerCpuMs = result.cpuMs;
    } finally {
      servers.smtp.onMail = () => undefined;
    }
    // The slower baseline is the one with the longer time.
    const baselineMs = Math.max(echoMs, mailerMs);
    return ratioResult({
      run: tally.summary(),
      problems,
      peakRssKb,
      count,
      baselineMs,
      // Both baselines' CPU: the gateway does the work of both legs.
      cpu: { gatewayMs: gatewayCpuMs, baselineMs: echoCpuMs + mailerCpuMs, machine: machineUse },
      details: {
        echoRate: (count / echoMs) * 1000,
        nodemailerRate: (count / mailerMs) * 1000,
        echoCpuMsPerMessage: echoCpuMs / count,
        nodemailerCpuMsPerMessage: mailerCpuMs / count,
      },
    });
  },
};
