// Per-user preferences kept by the core, whatever the transport: display name, receipts, spam policy.
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

export function createPreferences(table: Table<Partial<Preferences>>): PreferenceStore {
  return {
    async get(user) {
      return { ...DEFAULT_PREFERENCES, ...(await table.get(user)) };
    },
    async update(user, change) {
      const next = { ...(await table.get(user)), ...change };
      await table.set(user, next);
      return { ...DEFAULT_PREFERENCES, ...next };
    },
    async forget(user) {
      await table.delete(user);
    },
  };
}
