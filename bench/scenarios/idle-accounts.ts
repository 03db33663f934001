// Idle accounts: the gateway's resident memory with N registered personal mailboxes, each held
// in an IMAP IDLE session on Dovecot, against the same gateway with none. The N registrations are
// made once through XMPP (each Jabber user registers their own mailbox, as in real use); every
// run then starts a fresh gateway on a copy of that store and one on an empty store.
import { cpSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import type { GatewayProcess } from "../gateway-process.js";
import { mailboxFields } from "../gateway-config.js";
import { inParallel } from "../parallel.js";
import { startGateway, type BenchContext, type Scenario } from "../scenario.js";
import { COMPONENTS, PASSWORD } from "../servers.js";
import { median, nowMs } from "../stats.js";
import { login, register } from "../xmpp-load.js";
import { waitForSessions } from "./email-to-xmpp.js";

/** Registrations at once: enough to overlap the IMAP and SMTP checks, few enough to stay polite. */
const REGISTERING = 10;
const SETTLE_MS = 8_000;

let registered: { dir: string; seconds: number } | null = null;

async function registerAll(ctx: BenchContext): Promise<{ dir: string; seconds: number }> {
  const { servers, accounts } = ctx;
  for (let index = 1; index <= accounts; index += 1) servers.dovecot.addMailbox(`idle${index}@bench.test`, PASSWORD);
  const gateway = await startGateway(ctx, "email");
  const started = nowMs();
  try {
    await inParallel(accounts, REGISTERING, async (index) => {
      const user = `idle${index + 1}`;
      const client = await login(servers.prosody.c2sPort, user, false);
      try {
        await register(client, COMPONENTS.email, mailboxFields(servers, `${user}@bench.test`, PASSWORD), 60_000);
      } finally {
        await client.stop();
      }
    });
    await waitForSessions(gateway, accounts);
  } finally {
    await gateway.stop();
  }
  const seconds = (nowMs() - started) / 1000;
  ctx.say(`idle accounts: ${accounts} mailboxes registered through XMPP in ${seconds.toFixed(1)} s (${(accounts / seconds).toFixed(1)}/s)`);
  return { dir: gateway.options.dir, seconds };
}

/** The settled resident size: the median of samples taken after the sessions went idle. */
async function settledRss(gateway: GatewayProcess): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const samples: number[] = [];
  for (let sample = 0; sample < 5; sample += 1) {
    samples.push(gateway.memory().rssKb);
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  return median(samples);
}

export const idleAccounts: Scenario = {
  id: "idle-accounts",
  title: "idle accounts",
  baseline: "the gateway with 0 accounts",
  target: { kind: "max-kb-per-account", value: 150 },
  async run(ctx) {
    registered ??= await registerAll(ctx);
    const empty = await startGateway(ctx, "email");
    let rss0: number;
    try {
      rss0 = await settledRss(empty);
    } finally {
      await empty.stop();
    }
    // A copy of the registered store, so every run starts from the same state.
    const dir = mkdtempSync(join(ctx.tmp, `idle-${ctx.tag}-`));
    cpSync(join(registered.dir, "switchboard.sqlite"), join(dir, "switchboard.sqlite"));
    const full = await startGateway(ctx, "email", dir);
    let rssN: number;
    let peakRssKb: number;
    let connectMs: number;
    try {
      const started = nowMs();
      await waitForSessions(full, ctx.accounts);
      connectMs = nowMs() - started;
      rssN = await settledRss(full);
      peakRssKb = full.memory().peakKb;
    } finally {
      await full.stop();
    }
    const perAccount = (rssN - rss0) / ctx.accounts;
    return {
      peakRssKb,
      value: perAccount,
      lost: 0,
      duplicated: 0,
      problems: [],
      details: { accounts: ctx.accounts, rssEmptyKb: rss0, rssFullKb: rssN, connectAllMs: connectMs, registrationSeconds: registered.seconds },
    };
  },
};
