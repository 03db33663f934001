// Legacy addresses as contact JIDs (XEP-0106 escaped), and the contacts each user has dealt with.
import { GatewayError, gatewayError } from "../errors.js";
import type { Table } from "../store/store.js";
import type { AddressCodec } from "../transport/contract.js";
import { escapeLocal, unescapeLocal, type BareJid } from "../xmpp/jid.js";

export interface ContactEntry {
  name?: string;
  subscribed?: boolean;
}

export interface Contacts {
  /** The canonical contact JID of a legacy address. */
  jidOf(address: string): string;
  /** The legacy address a contact JID's local part stands for; throws jid-malformed with a reason. */
  addressOf(local: string): string;
  /** The canonical form of an address a user typed; throws jid-malformed with a reason. */
  parse(text: string): string;
  remember(user: BareJid, address: string, entry?: ContactEntry): Promise<void>;
  list(user: BareJid): Promise<Record<string, ContactEntry>>;
  forget(user: BareJid): Promise<void>;
}

export function createContacts(options: { domain: string; codec: AddressCodec; table: Table<Record<string, ContactEntry>> }): Contacts {
  const { domain, codec, table } = options;
  const known = new Map<string, Set<string>>(); // saves a store write per message for contacts seen before
  return {
    jidOf(address) {
      return `${escapeLocal(address)}@${domain}`;
    },
    addressOf(local) {
      if (!local) throw gatewayError("jid-malformed", `This JID has no local part; write to address@${domain}.`);
      return this.parse(unescapeLocal(local));
    },
    parse(text) {
      try {
        return codec.parse(text);
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        throw gatewayError("jid-malformed", `"${text}" is not a valid ${codec.prompt.toLowerCase()}.`);
      }
    },
    async remember(user, address, entry = {}) {
      const seen = known.get(user) ?? new Set<string>();
      if (seen.has(address) && Object.keys(entry).length === 0) return;
      const contacts = (await table.get(user)) ?? {};
      contacts[address] = { ...contacts[address], ...entry };
      await table.set(user, contacts);
      seen.add(address);
      known.set(user, seen);
    },
    async list(user) {
      return (await table.get(user)) ?? {};
    },
    async forget(user) {
      known.delete(user);
      await table.delete(user);
    },
  };
}
