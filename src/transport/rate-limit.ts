// A token bucket per key: `capacity` actions at once, refilled evenly over `windowMs`. A capacity
// given as a function is read at each take, so a config reload (SIGHUP) changes it in place: a
// raised limit hands each bucket the difference at once, a lowered one takes it away.
export interface RateLimiter {
  /** Takes one token; false when `key` is over the limit. */
  take(key: string): boolean;
  /** How many keys hold a bucket now: those that took a token within about one window, never more than `maxKeys`. */
  readonly size: number;
}

/** Time is read from the monotonic clock by default: the wall clock set back an hour would have
 *  emptied every bucket for an hour. `maxKeys` (default 10,000) bounds memory when that many keys
 *  are all active within one window: the least recently used bucket is then dropped, so an old key
 *  may get a fresh bucket early, but a new key is always held to the limit. */
export function createRateLimiter(
  limit: number | (() => number),
  windowMs = 60_000,
  now: () => number = () => performance.now(),
  maxKeys = 10_000,
): RateLimiter {
  // Kept in order of last take, oldest first (a take moves its key to the end), so the buckets
  // most likely to have refilled are at the front and pruning never scans past a live one.
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
      const refilled = (entry: { tokens: number; at: number }) => Math.min(capacity, entry.tokens + (time - entry.at) * refillPerMs);
      const bucket = buckets.get(key) ?? { tokens: capacity, at: time };
      buckets.delete(key);
      // A bucket that has refilled to capacity is the same as no bucket, so it can go. Each key is
      // dropped at most once per insertion, so this costs O(1) per take on average.
      for (const [other, entry] of buckets) {
        if (refilled(entry) < capacity) break;
        buckets.delete(other);
      }
      // Every bucket left is live: drop the least recently used rather than stop limiting.
      while (buckets.size >= maxKeys) {
        const oldest = buckets.keys().next();
        if (oldest.done) break;
        buckets.delete(oldest.value);
      }
      bucket.tokens = refilled(bucket);
      bucket.at = time;
      buckets.set(key, bucket);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
    get size() {
      return buckets.size;
    },
  };
}
