// A token bucket per key: `capacity` actions at once, refilled evenly over `windowMs`. A capacity
// given as a function is read at each take, so a config reload (SIGHUP) changes it in place: a
// raised limit hands each bucket the difference at once, a lowered one takes it away.
export interface RateLimiter {
  /** Takes one token; false when `key` is over the limit. */
  take(key: string): boolean;
}

/** Time is read from the monotonic clock by default: the wall clock set back an hour would have
 *  emptied every bucket for an hour. */
export function createRateLimiter(limit: number | (() => number), windowMs = 60_000, now: () => number = () => performance.now()): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let known = typeof limit === "function" ? limit() : limit;
  return {
    take(key) {
      const capacity = typeof limit === "function" ? limit() : limit;
      if (capacity !== known) {
        for (const entry of buckets.values()) entry.tokens = Math.max(0, entry.tokens + capacity - known);
        known = capacity;
      }
      const refillPerMs = capacity / windowMs;
      const time = now();
      const bucket = buckets.get(key) ?? { tokens: capacity, at: time };
      bucket.tokens = Math.min(capacity, bucket.tokens + (time - bucket.at) * refillPerMs);
      bucket.at = time;
      buckets.set(key, bucket);
      // Full buckets carry no information; dropping them keeps the map as small as the active set.
      if (buckets.size > 10_000) for (const [other, entry] of buckets) if (entry.tokens >= capacity) buckets.delete(other);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
  };
}
