// Per-user preferences kept by the core: display name and receipts, whatever the transport, and the
// values of the settings a transport declares of its own (Transport.preferences).
import { LRUCache } from "lru-cache";
import type { Table } from "../../store/store.js";
import type { TransportPreference } from "../../transport/contract.js";
import type { BareJid } from "../../xmpp/jid.js";

export interface Preferences {
  /** Name put on outgoing messages when the client sends none (e-mail From, for instance). */
  displayName?: string;
  /** Pass delivery receipts back to the sender's client (default: yes). */
  receipts: boolean;
  /** The user's choices among the transport's own settings, by their var (unset: the default). */
  options: Record<string, string>;
}

export const DEFAULT_PREFERENCES: Preferences = { receipts: true, options: {} };

/** What release 0.1.0 stored: the e-mail transport's sender policy was a field of the core's. */
type Stored = Partial<Preferences> & { spamPolicy?: string };

const withDefaults = (stored: Stored): Preferences => {
  const { spamPolicy, ...rest } = stored;
  return { ...DEFAULT_PREFERENCES, ...rest, options: { ...(spamPolicy && { spam: spamPolicy }), ...rest.options } };
};

export interface PreferenceStore {
  get(user: BareJid): Promise<Preferences>;
  update(user: BareJid, change: Partial<Preferences>): Promise<Preferences>;
  forget(user: BareJid): Promise<void>;
}

const CACHED_USERS = 10_000;

export function createPreferences(table: Table<Stored>): PreferenceStore {
  // Read on every message (display name, receipts, the transport's filters): kept in memory, written through.
  // Bounded: a busy gateway with many users keeps the recent ones; the rest are read again.
  const cache = new LRUCache<BareJid, Stored>({ max: CACHED_USERS });
  const stored = async (user: BareJid): Promise<Stored> => {
    let found = cache.get(user);
    if (!found) {
      found = (await table.get(user)) ?? {};
      cache.set(user, found);
    }
    return found;
  };
  return {
    async get(user) {
      return withDefaults(await stored(user));
    },
    async update(user, change) {
      const current = withDefaults(await stored(user));
      const next: Preferences = { ...current, ...change, options: { ...current.options, ...change.options } };
      await table.set(user, next);
      cache.set(user, next);
      return next;
    },
    async forget(user) {
      cache.delete(user);
      await table.delete(user);
    },
  };
}

/** The user's value of each of the transport's settings, the first option where they chose none. */
export function transportOptions(declared: readonly TransportPreference[] | undefined, chosen: Record<string, string>): Record<string, string> {
  return Object.fromEntries((declared ?? []).map((preference) => [preference.var, chosen[preference.var] ?? preference.options[0]?.value ?? ""]));
}
