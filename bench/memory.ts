// Resident memory of a process from /proc (VmRSS now, VmHWM the peak over its whole life) and the
// CPU time it has used, which a busy shared machine disturbs far less than wall-clock rates.
import { readFileSync } from "node:fs";

export interface Memory {
  rssKb: number;
  peakKb: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssKb: field("VmRSS"), peakKb: field("VmHWM") };
}

/** User + system CPU time of a process so far, or of one of its threads, in ms (from /proc/PID/stat
 *  or /proc/PID/task/TID/stat, in clock ticks of 10 ms). */
export function cpuMsOf(pid: number, thread?: number): number {
  const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start at the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
