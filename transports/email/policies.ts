// Per-user choices the inbound path needs without reading whole registrations: "only mail from
// addresses I have written to", and the addresses each user has written to.
import type { Table } from "../../src/store/store.js";

export interface Policy {
  onlyKnownSenders: boolean;
}

export interface Policies {
  get(user: string): Promise<Policy>;
  set(user: string, policy: Policy): Promise<void>;
  forget(user: string): Promise<void>;
  wroteTo(user: string, address: string): Promise<void>;
  hasWrittenTo(user: string, address: string): Promise<boolean>;
}

export function createPolicies(policies: Table<Policy>, written: Table<number>): Policies {
  const cache = new Map<string, Policy>();
  return {
    async get(user) {
      const cached = cache.get(user);
      if (cached) return cached;
      const policy = (await policies.get(user)) ?? { onlyKnownSenders: false };
      cache.set(user, policy);
      return policy;
    },
    async set(user, policy) {
      cache.set(user, policy);
      await policies.set(user, policy);
    },
    async forget(user) {
      cache.delete(user);
      await policies.delete(user);
      for await (const [key] of written.entries()) if (key.startsWith(`${user} `)) await written.delete(key);
    },
    async wroteTo(user, address) {
      await written.set(`${user} ${address}`, Date.now());
    },
    async hasWrittenTo(user, address) {
      return written.has(`${user} ${address}`);
    },
  };
}
