// Legacy addresses as contact JIDs (XEP-0106 escaped, or encoded where the server's nodeprep would
// change the escaped form), and the contacts each user has dealt with.
import { LRUCache } from "lru-cache";
import { GatewayError, gatewayError } from "../../errors.js";
import type { Table } from "../../store/store.js";
import type { AddressCodec } from "../../transport/contract.js";
import { stableLocal, textOfLocal, type BareJid } from "../../xmpp/jid.js";
import { createKeyedQueue } from "../../transport/keyed-queue.js";

export interface ContactEntry {
  name?: string;
  /** The contact is in the user's roster (subscription handshake done or roster pushed). */
  subscribed?: boolean;
  /** The user has written to this contact (for the "known senders only" policy). */
  wrote?: boolean;
}

export interface Contacts {
  /** The canonical contact JID of a legacy address, one the server routes unchanged (stableLocal). */
  jidOf(address: string): string;
  /** The legacy address a contact JID's local part stands for; throws jid-malformed with a reason. */
  addressOf(local: string): string;
  /** The canonical form of an address a user typed; throws jid-malformed with a reason. */
  parse(text: string): string;
  /** Records (or updates) a contact; resolves true when the user had never dealt with it before. */
  remember(user: BareJid, address: string, entry?: ContactEntry): Promise<boolean>;
  get(user: BareJid, address: string): Promise<ContactEntry | undefined>;
  list(user: BareJid): Promise<Record<string, ContactEntry>>;
  forget(user: BareJid): Promise<void>;
}

const CACHED_BOOKS = 10_000;

export function createContacts(options: { domain: string; codec: AddressCodec; table: Table<Record<string, ContactEntry>> }): Contacts {
  const { domain, codec, table } = options;
  // Every message touches its user's contact book: keep the books in memory, write through.
  // Bounded: books of users not heard from lately are read from the store again when needed.
  const books = new LRUCache<BareJid, Record<string, ContactEntry>>({ max: CACHED_BOOKS });
  const writes = createKeyedQueue();
  const book = async (user: BareJid): Promise<Record<string, ContactEntry>> => {
    let found = books.get(user);
    if (!found) {
      found = (await table.get(user)) ?? {};
      books.set(user, found);
    }
    return found;
  };

  return {
    jidOf(address) {
      // Escaped as it is, straße@example.de would come back from the server as strasse\40example.de:
      // a reply would go to another mailbox.
      return `${stableLocal(address)}@${domain}`;
    },
    addressOf(local) {
      if (!local) throw gatewayError("jid-malformed", `This JID has no local part; write to address@${domain}.`);
      const text = textOfLocal(local);
      if (text === undefined) throw gatewayError("jid-malformed", `"${local}@${domain}" is no contact's JID: its "u8-" part encodes no address.`);
      return this.parse(text);
    },
    parse(text) {
      try {
        return codec.parse(text);
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        throw gatewayError("jid-malformed", `"${text}" is not a valid ${codec.prompt.toLowerCase()}.`);
      }
    },
    remember(user, address, entry = {}) {
      return writes.run(user, async () => {
        const contacts = await book(user);
        const before = contacts[address];
        const merged = { ...before, ...entry };
        const changed = !before || Object.entries(entry).some(([key, value]) => before[key as keyof ContactEntry] !== value);
        if (!changed) return false;
        contacts[address] = merged;
        await table.set(user, contacts);
        return !before;
      });
    },
    async get(user, address) {
      return (await book(user))[address];
    },
    async list(user) {
      return { ...(await book(user)) };
    },
    forget(user) {
      return writes.run(user, async () => {
        books.delete(user);
        await table.delete(user);
      });
    },
  };
}
