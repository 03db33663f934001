// Resident memory of a process from /proc: VmRSS now and VmHWM, the peak over its whole life.
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
