// Hosted mode: which user owns which address on the gateway's mail domain, and who a mail is for.
import { gatewayError, type Table, type BareJid } from "../../src/transport/index.js";
import { parseAddress, type EmailAddress } from "./address.js";
import type { IncomingMail } from "./mime.js";

export interface HostedDirectory {
  /** Gives `user` the address they asked for (a local part or a full address on the domain). */
  claim(user: BareJid, requested: string, previous?: string): Promise<EmailAddress>;
  release(user: BareJid, address: string): Promise<void>;
  /** The user who holds `address`, if one does. */
  ownerOf(address: string): Promise<BareJid | undefined>;
  /** The users a mail is for: by its envelope recipients when the server wrote them, else To/Cc. */
  route(mail: IncomingMail): Promise<BareJid[]>;
}

export interface HostedDirectoryOptions {
  domain: string;
  /** The operator's own logins (the catch-all mailbox, the relay): never a user's address, never a recipient. */
  logins: readonly string[];
}

const MAX_RECIPIENTS = 100;

// Addresses a domain's operator keeps for people, not for Jabber users: RFC 2142's role names,
// the ones certificate authorities mail to prove control of a domain, and the system's own.
const ROLE_NAMES = [
  "postmaster",
  "hostmaster",
  "webmaster",
  "abuse",
  "noc",
  "security",
  "info",
  "marketing",
  "sales",
  "support",
  "uucp",
  "news",
  "usenet",
  "www",
  "ftp",
  "admin",
  "administrator",
  "ssladmin",
  "ssl-admin",
  "mailer-daemon",
  "root",
  "nobody",
  "daemon",
  "noreply",
  "no-reply",
  "do-not-reply",
  "bounce",
  "bounces",
];

export function createHostedDirectory(table: Table<string>, options: HostedDirectoryOptions): HostedDirectory {
  const { domain } = options;
  const localOf = (address: string): string => (address.includes("@") ? address.slice(0, address.lastIndexOf("@")) : address);
  // The catch-all's own address receives every mail (the server writes it in Delivered-To): an
  // owner of it would read everyone's mail, so it is neither claimable nor routed to.
  const operatorAddresses = new Set(options.logins.map((login) => login.trim().toLowerCase()).flatMap((login) => [login, `${localOf(login)}@${domain}`]));
  const reservedLocals = new Set([...ROLE_NAMES, ...options.logins.map((login) => localOf(login.trim().toLowerCase()))]);

  /** True when `user` holds `address` now (whether it just got it or had it). The store's insert is
   *  one INSERT … ON CONFLICT statement: of two users asking at once, in any instance, one wins. */
  const take = async (user: BareJid, address: EmailAddress): Promise<boolean> => (await table.insert(address, user)) || (await table.get(address)) === user;

  const ownersOf = async (addresses: EmailAddress[]): Promise<BareJid[]> => {
    const owners: BareJid[] = [];
    // A mail may name thousands of recipients; only a bounded number are looked up.
    const candidates = addresses.filter((candidate) => candidate.endsWith(`@${domain}`) && !operatorAddresses.has(candidate));
    for (const address of candidates.slice(0, MAX_RECIPIENTS)) {
      const owner = await table.get(address);
      if (owner && !owners.includes(owner as BareJid)) owners.push(owner as BareJid);
    }
    return owners;
  };

  const release = async (user: BareJid, address: string): Promise<void> => {
    if ((await table.get(address)) === user) await table.delete(address);
  };

  return {
    release,
    async ownerOf(address) {
      return (await table.get(address)) as BareJid | undefined;
    },
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
      if (reservedLocals.has(local) || operatorAddresses.has(address)) {
        throw gatewayError("not-acceptable", `${address} is kept for the domain's operator; choose another address.`, "address-reserved");
      }
      const won = await take(user, address);
      if (!won) throw gatewayError("conflict", `${address} belongs to someone else already; choose another address.`);
      if (previous && previous !== address) await release(user, previous);
      return address;
    },
    async route(mail) {
      const byEnvelope = await ownersOf(mail.envelopeRecipients);
      return byEnvelope.length > 0 ? byEnvelope : ownersOf(mail.headerRecipients);
    },
  };
}
