// Counts what arrived against what was sent, by identity: each message carries a unique token,
// so a loss, a duplicate or a stray from another run is seen, not guessed from a count.
import { nowMs } from "./stats.js";

export interface TallySummary {
  expected: number;
  arrived: number;
  lost: number;
  duplicated: number;
  /** Tokens of other runs or scenarios (late arrivals, offline messages): ignored. */
  stray: number;
  /** First send to last arrival, in ms. */
  elapsedMs: number;
  /** Send → arrival, ms, one per arrived message that had a send time. */
  latencies: number[];
}

/** Tokens look like sb-<run>-<index>; a run tag keeps runs apart. */
export const TOKEN = /sb-(\d+)-(\d+)/;

export const tokenOf = (run: number, index: number): string => `sb-${run}-${index}`;

export class Tally {
  private readonly sentAt = new Map<string, number>();
  private readonly arrivedAt = new Map<string, number>();
  private duplicated = 0;
  private stray = 0;
  private firstSend = Number.POSITIVE_INFINITY;
  private lastArrival = 0;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly run: number,
    private readonly count: number,
  ) {}

  get arrivedCount(): number {
    return this.arrivedAt.size;
  }

  get sentCount(): number {
    return this.sentAt.size;
  }

  /** Marks the start of the clock without a per-message send time (a mailbox filled beforehand). */
  start(at = nowMs()): void {
    this.firstSend = Math.min(this.firstSend, at);
  }

  sent(index: number, at = nowMs()): void {
    this.sentAt.set(tokenOf(this.run, index), at);
    this.start(at);
  }

  /** Feed any text that may hold a token; returns true when it counted as a new arrival. */
  seen(text: string, at = nowMs()): boolean {
    const match = TOKEN.exec(text);
    if (!match) return false;
    const index = Number(match[2]);
    if (Number(match[1]) !== this.run || index >= this.count) {
      this.stray += 1;
      return false;
    }
    const token = match[0];
    if (this.arrivedAt.has(token)) {
      this.duplicated += 1;
      return false;
    }
    this.arrivedAt.set(token, at);
    this.lastArrival = Math.max(this.lastArrival, at);
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
    return true;
  }

  /** Resolves at the next arrival or after `ms`, whichever comes first. */
  nextArrival(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Waits (bounded) until all `count` arrived, or nothing new arrived for `quietMs`. */
  async settle(deadlineMs: number, quietMs = 15_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    let lastProgress = Date.now();
    let seen = this.arrivedCount;
    while (this.arrivedCount < this.count && Date.now() < deadline && Date.now() - lastProgress < quietMs) {
      await this.nextArrival(250);
      if (this.arrivedCount !== seen) {
        seen = this.arrivedCount;
        lastProgress = Date.now();
      }
    }
  }

  /** Each arrival's time since start(), for a backlog that had no send times. */
  arrivalsSinceStart(): number[] {
    return [...this.arrivedAt.values()].map((at) => at - this.firstSend);
  }

  summary(): TallySummary {
    const latencies: number[] = [];
    for (const [token, at] of this.arrivedAt) {
      const sent = this.sentAt.get(token);
      if (sent !== undefined) latencies.push(at - sent);
    }
    return {
      expected: this.count,
      arrived: this.arrivedAt.size,
      lost: this.count - this.arrivedAt.size,
      duplicated: this.duplicated,
      stray: this.stray,
      elapsedMs: this.arrivedAt.size > 0 ? this.lastArrival - this.firstSend : Number.NaN,
      latencies,
    };
  }
}

/** Sends `count` messages keeping at most `window` unarrived; stops early when arrivals stall. */
export async function pump(options: { tally: Tally; count: number; window: number; stallMs: number; send(index: number): Promise<void> }): Promise<void> {
  const { tally, count, window, stallMs } = options;
  for (let index = 0; index < count; index += 1) {
    const stalledAt = Date.now() + stallMs;
    while (tally.sentCount - tally.arrivedCount >= window) {
      if (Date.now() > stalledAt) return; // lost messages hold the window: the summary reports them
      await tally.nextArrival(100);
    }
    tally.sent(index);
    await options.send(index);
  }
}
