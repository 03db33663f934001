// Idle accounts: the gateway's resident memory with N registered personal mailboxes, each held
// in an IMAP IDLE session on Dovecot, against the same gateway with none. The N registrations are
// made once through XMPP (each Jabber user registers their own mailbox, as in real use); every
// run then starts a fresh gateway on a copy of that store and one on an empty store.
import { cpSync, existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
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
/** The gateway takes 30 registrations a minute in all (ATTEMPTS_PER_MINUTE in
 *  src/gateway/state/accounts.ts, not configurable), so 500 would take 17 minutes at that pace. That limit
 *  lives in memory: the bench registers a batch below it per gateway process and restarts the
 *  gateway between batches. Every registration still goes through XMPP and the real checks. */
const PER_PROCESS = 25;
const SETTLE_MS = 8_000;
const RETRIES = 3;

let registered: { dir: string; seconds: number; retried: number } | null = null;

async function registerAll(ctx: BenchContext): Promise<{ dir: string; seconds: number; retried: number }> {
  const { servers, accounts } = ctx;
  for (let index = 1; index <= accounts; index += 1) servers.dovecot.addMailbox(`idle${index}@bench.test`, PASSWORD);
  const dir = mkdtempSync(join(ctx.tmp, "idle-registered-"));
  const started = nowMs();
  let retried = 0;
  for (let first = 0; first < accounts; first += PER_PROCESS) {
    const gateway = await startGateway(ctx, "email", dir);
    try {
      const batch = Math.min(PER_PROCESS, accounts - first);
      await inParallel(batch, REGISTERING, async (offset) => {
        const user = `idle${first + offset + 1}`;
        const client = await login(servers.prosody.c2sPort, user, false);
        try {
          // While the restarted gateway reconnects hundreds of sessions, Dovecot may reset a
          // connection: the user tries again, as a person would (25 + retries stay under 30).
          for (let attempt = 1; ; attempt += 1) {
            try {
              await register(client, COMPONENTS.email, mailboxFields(servers, `${user}@bench.test`, PASSWORD), 60_000);
              break;
            } catch (error) {
              if (attempt >= RETRIES || !/ECONNRESET|timed? ?out|remote-server-not-found/i.test(String(error))) throw error;
              retried += 1;
              await new Promise((resolve) => setTimeout(resolve, 2_000));
            }
          }
        } finally {
          await client.stop();
        }
      });
      if (first + batch >= accounts) await waitForSessions(gateway, accounts);
    } finally {
      // Every registration in the batch was answered, so it is stored: a quick stop will do.
      await gateway.stop(2_000);
    }
  }
  const seconds = (nowMs() - started) / 1000;
  ctx.say(
    `idle accounts: ${accounts} mailboxes registered through XMPP in ${seconds.toFixed(1)} s (${(accounts / seconds).toFixed(1)}/s, gateway restarted every ${PER_PROCESS}; ${retried} attempts repeated)`,
  );
  return { dir, seconds, retried };
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

const wantsSnapshot = (ctx: BenchContext): boolean => ctx.nodeFlags.some((flag) => flag.startsWith("--heapsnapshot-signal=SIGUSR2"));

/** Asks the gateway for a heap snapshot (node's --heapsnapshot-signal) and waits until it is written. */
async function heapSnapshot(gateway: GatewayProcess): Promise<string> {
  const before = new Set(readdirSync(gateway.options.dir));
  gateway.signal("SIGUSR2");
  const deadline = Date.now() + 120_000;
  let size = -1;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const file = readdirSync(gateway.options.dir).find((name) => name.endsWith(".heapsnapshot") && !before.has(name));
    if (!file) continue;
    const path = join(gateway.options.dir, file);
    // Node writes the file in one go while the process is paused; a size that holds means done.
    const now = statSync(path).size;
    if (now > 0 && now === size) return path;
    size = now;
  }
  return "(not written within 120 s)";
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
      if (wantsSnapshot(ctx)) ctx.say(`idle accounts: heap snapshot with 0 accounts ${await heapSnapshot(empty)}`);
    } finally {
      await empty.stop();
    }
    // A copy of the registered store, so every run starts from the same state.
    const dir = mkdtempSync(join(ctx.tmp, `idle-${ctx.tag}-`));
    // With its write-ahead log: the last batch's gateway may have been stopped before a checkpoint.
    for (const file of ["switchboard.sqlite", "switchboard.sqlite-wal"])
      if (existsSync(join(registered.dir, file))) cpSync(join(registered.dir, file), join(dir, file));
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
      if (wantsSnapshot(ctx)) ctx.say(`idle accounts: heap snapshot with ${ctx.accounts} accounts ${await heapSnapshot(full)}`);
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
      details: {
        accounts: ctx.accounts,
        rssEmptyKb: rss0,
        rssFullKb: rssN,
        connectAllMs: connectMs,
        registrationSeconds: registered.seconds,
        registrationRetries: registered.retried,
      },
    };
  },
};
