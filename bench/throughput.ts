// Figures of a throughput scenario: messages/s through the gateway, latencies, the baseline's
// messages/s and their ratio; a loss or a duplicate is a problem that fails the run.
import type { MachineUse } from "./machine-cpu.js";
import type { RunResult } from "./scenario.js";
import { median, percentile } from "./stats.js";
import type { TallySummary } from "./tally.js";

/** Figures of a throughput scenario from its tally and its baseline's duration. */
export function ratioResult(input: {
  run: TallySummary;
  problems: string[];
  peakRssKb: number;
  baselineMs: number;
  count: number;
  latencies?: number[];
  details?: Record<string, unknown>;
  /** CPU of the gateway and of its baseline; `machine`: all the machine spent while the gateway worked. */
  cpu?: { gatewayMs: number; baselineMs: number; machine?: MachineUse | undefined };
}): RunResult {
  const { run, problems, count } = input;
  if (run.lost > 0) problems.push(`${run.lost} of ${count} messages lost`);
  if (run.duplicated > 0) problems.push(`${run.duplicated} messages arrived twice`);
  const rate = (run.arrived / run.elapsedMs) * 1000;
  const baselineRate = (count / input.baselineMs) * 1000;
  const latencies = input.latencies ?? run.latencies;
  return {
    rate,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    peakRssKb: input.peakRssKb,
    baselineRate,
    value: rate / baselineRate,
    lost: run.lost,
    duplicated: run.duplicated,
    problems,
    details: {
      // CPU time per message: much less disturbed by others' work on the machine than rates.
      ...(input.cpu && {
        gatewayCpuMsPerMessage: input.cpu.gatewayMs / count,
        baselineCpuMsPerMessage: input.cpu.baselineMs / count,
        cpuRatio: input.cpu.baselineMs / input.cpu.gatewayMs,
      }),
      ...(input.cpu?.machine && {
        machineCpuMsPerMessage: input.cpu.machine.cpuMs / count,
        // Prosody, Dovecot, the stand-ins and the bench's clients: what the gateway's work made them do.
        othersCpuMsPerMessage: (input.cpu.machine.cpuMs - input.cpu.gatewayMs) / count,
        benchCpuMsPerMessage: input.cpu.machine.benchCpuMs / count,
        gatewayMainThreadMsPerMessage: input.cpu.machine.gatewayMainThreadMs / count,
        machineBusyShare: input.cpu.machine.cpuMs / (input.cpu.machine.wallMs * input.cpu.machine.cores),
        cores: input.cpu.machine.cores,
      }),
      arrived: run.arrived,
      stray: run.stray,
      elapsedMs: run.elapsedMs,
      baselineMs: input.baselineMs,
      medianLatencyMs: median(latencies),
      ...input.details,
    },
  };
}
