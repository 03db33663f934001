// Who is registered with a transport and with what settings; secret fields are sealed at rest.
import type { SecretBox } from "../store/secrets.js";
import type { Table } from "../store/store.js";
import type { Fields } from "../transport/contract.js";
import type { BareJid } from "../xmpp/jid.js";

interface StoredRegistration {
  fields: Fields;
  registeredAt: string;
  updatedAt: string;
}

export interface Registration {
  user: BareJid;
  fields: Fields;
  registeredAt: Date;
}

export interface Registrations {
  get(user: BareJid): Promise<Registration | undefined>;
  isRegistered(user: BareJid): Promise<boolean>;
  save(user: BareJid, fields: Fields): Promise<void>;
  remove(user: BareJid): Promise<void>;
  all(): AsyncIterable<Registration>;
  /** Registered users only: no secret is unsealed for it. */
  users(): AsyncIterable<BareJid>;
}

export function createRegistrations(table: Table<StoredRegistration>, box: SecretBox, secretFields: readonly string[]): Registrations {
  // Registered users are looked up on every message; a small cache spares the store.
  const cache = new Map<BareJid, Registration | null>();

  const unseal = (user: BareJid, stored: StoredRegistration): Registration => ({
    user,
    registeredAt: new Date(stored.registeredAt),
    fields: Object.fromEntries(Object.entries(stored.fields).map(([key, value]) => [key, secretFields.includes(key) && value ? box.open(value) : value])),
  });

  return {
    async get(user) {
      const cached = cache.get(user);
      if (cached !== undefined) return cached ?? undefined;
      const stored = await table.get(user);
      const registration = stored ? unseal(user, stored) : undefined;
      cache.set(user, registration ?? null);
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
    },
    async remove(user) {
      cache.delete(user);
      await table.delete(user);
    },
    async *users() {
      for await (const [user] of table.entries()) yield user as BareJid;
    },
    async *all() {
      for await (const [user, stored] of table.entries()) yield unseal(user as BareJid, stored);
    },
  };
}
