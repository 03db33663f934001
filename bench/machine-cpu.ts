// CPU time the whole machine spends over a window: the gateway and everything it needs to do its
// work (Prosody, Dovecot, the stand-ins, the bench's own clients) together, from /proc/stat.
// Beside the gateway's own CPU, it says how much of the machine the target leaves the gateway.
import { availableParallelism } from "node:os";
import { readFileSync } from "node:fs";
import { cpuMsOf } from "./memory.js";
import { nowMs } from "./stats.js";

/** /proc/stat counts in USER_HZ ticks, which Linux fixes at 100 a second for user space. */
const MS_PER_TICK = 10;

/** Busy CPU ms of all cores since boot: user, nice, system, irq, softirq and steal (not idle or iowait). */
export function machineCpuMs(): number {
  const total = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const ticks = total.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
  return (user + nice + system + irq + softirq + steal) * MS_PER_TICK;
}

export interface MachineUse {
  /** Busy CPU ms of the whole machine over the window. */
  cpuMs: number;
  /** Of it, the bench's own process: its XMPP clients, the stand-ins and the load it sends. */
  benchCpuMs: number;
  /** Of it, the gateway's main thread, where all its JavaScript runs (the rest of the gateway's
   *  CPU is V8's helper threads, garbage collection and compiling, and libuv's). */
  gatewayMainThreadMs: number;
  wallMs: number;
  cores: number;
}

/** Starts a window while the gateway `gatewayPid` works; its end() says what the machine spent meanwhile. */
export function machineWindow(gatewayPid: number): { end(): MachineUse } {
  const cpuAtStart = machineCpuMs();
  const benchAtStart = cpuMsOf(process.pid);
  const mainAtStart = cpuMsOf(gatewayPid, gatewayPid);
  const startedAt = nowMs();
  return {
    end: () => ({
      cpuMs: machineCpuMs() - cpuAtStart,
      benchCpuMs: cpuMsOf(process.pid) - benchAtStart,
      gatewayMainThreadMs: cpuMsOf(gatewayPid, gatewayPid) - mainAtStart,
      wallMs: nowMs() - startedAt,
      cores: availableParallelism(),
    }),
  };
}
