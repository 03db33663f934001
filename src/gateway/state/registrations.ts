// Who is registered with a transport and with what settings; secret fields are sealed at rest.
import { LRUCache } from "lru-cache";
import type { SecretBox } from "../../store/secrets.js";
import type { Table } from "../../store/store.js";
import type { Fields } from "../../transport/contract.js";
import type { BareJid } from "../../xmpp/jid.js";

interface StoredRegistration {
  fields: Fields;
  registeredAt: string;
  updatedAt: string;
}

export interface Registration {
  user: BareJid;
  /** Without the secrets that could not be unsealed, when `unreadable`. */
  fields: Fields;
  registeredAt: Date;
  /** A stored secret no key of the ring opens (the key changed, or the value is damaged): the
   *  account cannot be used until the user registers again. */
  unreadable?: true;
}

export interface Registrations {
  get(user: BareJid): Promise<Registration | undefined>;
  isRegistered(user: BareJid): Promise<boolean>;
  save(user: BareJid, fields: Fields): Promise<void>;
  remove(user: BareJid): Promise<void>;
  all(): AsyncIterable<Registration>;
  /** Registered users only: no secret is unsealed for it. */
  users(): AsyncIterable<BareJid>;
  /** How many are registered, for the metrics: counted in the store at most every few minutes
   *  (other instances register users too), and kept up by this instance's own changes in between. */
  count(): Promise<number>;
}

const CACHED_USERS = 10_000;
const RECOUNT_MS = 5 * 60_000;

export function createRegistrations(
  table: Table<StoredRegistration>,
  box: SecretBox,
  secretFields: readonly string[],
  /** Told each time a registration with a secret that cannot be unsealed is read. */
  onUnreadable: (user: BareJid, error: Error) => void = () => undefined,
): Registrations {
  // Registered users are looked up on every message; a cache spares the store. It also remembers
  // who is *not* registered, and anyone can write: so it is bounded, least recently used out first.
  const cache = new LRUCache<BareJid, { registration?: Registration }>({ max: CACHED_USERS });
  let counted: { users: number; at: number } | undefined;

  // One value that cannot be opened must not take the gateway (or other users) down with it: the
  // registration is returned without that secret and marked, and the caller decides what to tell.
  const unseal = (user: BareJid, stored: StoredRegistration): Registration => {
    const fields: Fields = {};
    let failure: Error | undefined;
    for (const [key, value] of Object.entries(stored.fields)) {
      if (!secretFields.includes(key) || !value) {
        fields[key] = value;
        continue;
      }
      try {
        fields[key] = box.open(value);
      } catch (error) {
        failure = error as Error;
      }
    }
    const registration: Registration = { user, registeredAt: new Date(stored.registeredAt), fields };
    if (!failure) return registration;
    onUnreadable(user, failure);
    return { ...registration, unreadable: true };
  };

  return {
    async get(user) {
      const cached = cache.get(user);
      if (cached !== undefined) return cached.registration;
      const stored = await table.get(user);
      const registration = stored ? unseal(user, stored) : undefined;
      cache.set(user, registration ? { registration } : {});
      return registration;
    },
    async isRegistered(user) {
      return (await this.get(user)) !== undefined;
    },
    async save(user, fields) {
      const previous = await table.get(user);
      const now = new Date().toISOString();
      const sealed = Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, secretFields.includes(key) && value ? box.seal(value) : value]));
      cache.delete(user);
      await table.set(user, { fields: sealed, registeredAt: previous?.registeredAt ?? now, updatedAt: now });
      if (!previous && counted) counted.users += 1;
    },
    async remove(user) {
      cache.delete(user);
      if ((await table.delete(user)) && counted) counted.users -= 1;
    },
    async count() {
      if (!counted || Date.now() - counted.at > RECOUNT_MS) {
        let users = 0;
        for await (const _ of table.entries()) users += 1;
        counted = { users, at: Date.now() };
      }
      return counted.users;
    },
    async *users() {
      for await (const [user] of table.entries()) yield user as BareJid;
    },
    async *all() {
      for await (const [user, stored] of table.entries()) yield unseal(user as BareJid, stored);
    },
  };
}
