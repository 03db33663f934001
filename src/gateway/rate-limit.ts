// A token bucket per key: `capacity` actions at once, refilled evenly over `windowMs`.
export interface RateLimiter {
  /** Takes one token; false when `key` is over the limit. */
  take(key: string): boolean;
}

export function createRateLimiter(capacity: number, windowMs = 60_000, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refillPerMs = capacity / windowMs;
  return {
    take(key) {
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
