// Per-user preferences kept by the core, whatever the transport: display name, receipts, spam policy.
import { LRUCache } from "lru-cache";
import type { Table } from "../store/store.js";
import type { BareJid } from "../xmpp/jid.js";

export interface Preferences {
  /** Name put on outgoing messages when the client sends none (e-mail From, for instance). */
  displayName?: string;
  /** Pass delivery receipts back to the sender's client (default: yes). */
  receipts: boolean;
  /** "all": forward everything not flagged as spam; "known": only from addresses the user wrote to. */
  spamPolicy: "all" | "known";
}

export const DEFAULT_PREFERENCES: Preferences = { receipts: true, spamPolicy: "all" };

export interface PreferenceStore {
  get(user: BareJid): Promise<Preferences>;
  update(user: BareJid, change: Partial<Preferences>): Promise<Preferences>;
  forget(user: BareJid): Promise<void>;
}

const CACHED_USERS = 10_000;

export function createPreferences(table: Table<Partial<Preferences>>): PreferenceStore {
  // Read on every message (display name, receipts, spam policy): kept in memory, written through.
  // Bounded: a busy gateway with many users keeps the recent ones; the rest are read again.
  const cache = new LRUCache<BareJid, Partial<Preferences>>({ max: CACHED_USERS });
  const stored = async (user: BareJid): Promise<Partial<Preferences>> => {
    let found = cache.get(user);
    if (!found) {
      found = (await table.get(user)) ?? {};
      cache.set(user, found);
    }
    return found;
  };
  return {
    async get(user) {
      return { ...DEFAULT_PREFERENCES, ...(await stored(user)) };
    },
    async update(user, change) {
      const next = { ...(await stored(user)), ...change };
      await table.set(user, next);
      cache.set(user, next);
      return { ...DEFAULT_PREFERENCES, ...next };
    },
    async forget(user) {
      cache.delete(user);
      await table.delete(user);
    },
  };
}
