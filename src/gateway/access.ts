// Who may register with the gateway: configured domains and JIDs, the server's own domain by default.
import type { BareJid } from "../xmpp/jid.js";
import { parseJid } from "../xmpp/jid.js";

export interface Access {
  mayRegister(user: BareJid): boolean;
  isAdmin(user: BareJid): boolean;
}

export function createAccess(options: { register?: string[] | undefined; admins: string[]; serverDomain: string }): Access {
  const allowed = (options.register ?? [options.serverDomain]).map((entry) => entry.toLowerCase());
  const admins = new Set(options.admins.map((entry) => parseJid(entry).bare.toLowerCase()));
  return {
    mayRegister(user) {
      const { domain, bare } = parseJid(user);
      if (!domain || !bare.includes("@")) return false; // servers and components do not register
      return allowed.some((entry) => entry === "*" || entry === domain || entry === bare.toLowerCase());
    },
    isAdmin(user) {
      return admins.has(user.toLowerCase());
    },
  };
}
