// What every scenario gets from the runner and gives back: one run's figures and its verdict.
import { createDatabase } from "../test/support/postgres.js";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../src/trial/ports.js";
import { GatewayProcess } from "./gateway-process.js";
import { gatewayConfig } from "./gateway-config.js";
import type { Servers } from "./servers.js";

export interface BenchContext {
  servers: Servers;
  /** The compiled tree the gateway and the baseline processes run from. */
  distDir: string;
  tmp: string;
  count: number;
  accounts: number;
  /** Unique per scenario run; tokens carry it, so late messages of another run are told apart. */
  tag: number;
  logLevel: string;
  sync: "normal" | "full";
  store: "sqlite" | "postgresql";
  nodeFlags: string[];
  say(line: string): void;
}

export interface RunResult {
  /** Messages per second through the gateway (idle scenario: none). */
  rate?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** The gateway's VmHWM over the run. */
  peakRssKb: number;
  baselineRate?: number;
  /** The measure the target applies to: the ratio, or KB per account. */
  value: number;
  lost: number;
  duplicated: number;
  /** Problems that make the run fail however fast it was (loss, errors, non-200 answers). */
  problems: string[];
  details: Record<string, unknown>;
}

export interface Target {
  kind: "min-ratio" | "max-kb-per-account";
  value: number;
}

export interface Scenario {
  id: string;
  title: string;
  baseline: string;
  target: Target;
  run(ctx: BenchContext): Promise<RunResult>;
}

export const meets = (target: Target, value: number): boolean => (target.kind === "min-ratio" ? value >= target.value : value <= target.value);

/** A fresh gateway process with its own folder and store, for one transport. */
export async function startGateway(ctx: BenchContext, transport: "sms" | "email", dir = mkdtempSync(join(ctx.tmp, `gw-${ctx.tag}-`))): Promise<GatewayProcess> {
  const httpPort = await freePort();
  const gateway = new GatewayProcess({
    distDir: ctx.distDir,
    dir,
    httpPort,
    config: gatewayConfig({
      servers: ctx.servers,
      dir,
      httpPort,
      transport,
      logLevel: ctx.logLevel,
      sync: ctx.sync,
      ...(ctx.store === "postgresql" && { storeUri: await createDatabase() }),
    }),
    nodeFlags: ctx.nodeFlags,
  });
  try {
    await gateway.start();
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return gateway;
}

/** Wall-clock bound for waiting on `count` messages: generous, but never endless. */
export const deadlineFor = (count: number): number => 60_000 + count * 40;
