// Who may register with the gateway: configured domains and JIDs, the server's own domain by default.
// The lists are read at each question, so a config reload (SIGHUP) that changes them applies at once.
import type { BareJid } from "../../xmpp/jid.js";
import { parseJid } from "../../xmpp/jid.js";

export interface Access {
  mayRegister(user: BareJid): boolean;
  isAdmin(user: BareJid): boolean;
}

export function createAccess(options: { register?: string[] | undefined; admins: string[]; serverDomain: string }): Access {
  let adminsFrom: string[] | undefined;
  let admins = new Set<string>();
  const allowedNow = (): string[] => (options.register ?? [options.serverDomain]).map((entry) => entry.toLowerCase());
  const adminsNow = (): Set<string> => {
    if (adminsFrom !== options.admins) {
      adminsFrom = options.admins;
      admins = new Set(options.admins.map((entry) => parseJid(entry).bare.toLowerCase()));
    }
    return admins;
  };
  return {
    mayRegister(user) {
      const { domain, bare } = parseJid(user);
      if (!domain || !bare.includes("@")) return false; // servers and components do not register
      return allowedNow().some((entry) => entry === "*" || entry === domain || entry === bare.toLowerCase());
    },
    isAdmin(user) {
      return adminsNow().has(user.toLowerCase());
    },
  };
}
