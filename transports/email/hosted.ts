// Hosted mode: which user owns which address on the gateway's mail domain, and who a mail is for.
import { gatewayError } from "../../src/errors.js";
import type { Table } from "../../src/store/store.js";
import type { BareJid } from "../../src/xmpp/jid.js";
import { parseAddress, type EmailAddress } from "./address.js";
import type { IncomingMail } from "./mime.js";

export interface HostedDirectory {
  /** Gives `user` the address they asked for (a local part or a full address on the domain). */
  claim(user: BareJid, requested: string, previous?: string): Promise<EmailAddress>;
  release(user: BareJid, address: string): Promise<void>;
  /** The users a mail is for: by its envelope recipients when the server wrote them, else To/Cc. */
  route(mail: IncomingMail): Promise<BareJid[]>;
}

// Addresses a domain's operator keeps for people, not for Jabber users.
const MAX_RECIPIENTS = 100;

const RESERVED = new Set(["postmaster", "abuse", "hostmaster", "webmaster", "mailer-daemon", "noreply", "no-reply", "root"]);

export function createHostedDirectory(table: Table<string>, domain: string): HostedDirectory {
  const ownersOf = async (addresses: EmailAddress[]): Promise<BareJid[]> => {
    const owners: BareJid[] = [];
    // A mail may name thousands of recipients; only a bounded number are looked up.
    for (const address of addresses.filter((candidate) => candidate.endsWith(`@${domain}`)).slice(0, MAX_RECIPIENTS)) {
      const owner = await table.get(address);
      if (owner && !owners.includes(owner as BareJid)) owners.push(owner as BareJid);
    }
    return owners;
  };

  return {
    async claim(user, requested, previous) {
      const text = requested.trim().toLowerCase();
      let address: EmailAddress;
      try {
        address = parseAddress(text.includes("@") ? text : `${text}@${domain}`);
      } catch (error) {
        throw gatewayError("not-acceptable", (error as Error).message.replace("is not an e-mail address", "cannot be your address"));
      }
      const [local, host] = [address.slice(0, address.lastIndexOf("@")), address.slice(address.lastIndexOf("@") + 1)];
      if (host !== domain) throw gatewayError("not-acceptable", `Your address must end in @${domain}, not @${host}.`);
      if (RESERVED.has(local)) throw gatewayError("not-acceptable", `${address} is kept for the domain's operator; choose another address.`);
      const owner = await table.get(address);
      if (owner && owner !== user) throw gatewayError("conflict", `${address} belongs to someone else already; choose another address.`);
      await table.set(address, user);
      if (previous && previous !== address && (await table.get(previous)) === user) await table.delete(previous);
      return address;
    },
    async release(user, address) {
      if ((await table.get(address)) === user) await table.delete(address);
    },
    async route(mail) {
      const byEnvelope = await ownersOf(mail.envelopeRecipients);
      return byEnvelope.length > 0 ? byEnvelope : ownersOf(mail.headerRecipients);
    },
  };
}
