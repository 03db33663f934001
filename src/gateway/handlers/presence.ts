// XEP-0100 presence: the subscription handshake with the transport and its contacts, probes, and
// whether the user's legacy account works, shown as the transport's and the contacts' presence.
import { GatewayError } from "../../errors.js";
import type { AccountState } from "../../transport/contract.js";
import type { BareJid } from "../../xmpp/jid.js";
import { xml, type Element } from "../../xmpp/xml.js";
import type { Gateway } from "../gateway.js";
import { createRateLimiter } from "../../transport/rate-limit.js";
import type { Router, StanzaRequest } from "../router.js";

export interface PresenceActions {
  /** The full handshake after a new registration: ask to see the user, show the transport online. */
  welcome(user: BareJid): Promise<void>;
  /** Tell a leaving user's roster to drop the transport and every contact it knows. */
  farewell(user: BareJid, contactJids: string[]): Promise<void>;
  /** Presence from the transport to every registered user (after connecting). */
  announce(): Promise<void>;
  /** Unavailable presence from the transport to every registered user (before shutting down). */
  withdraw(status: string): Promise<void>;
  /** The user's legacy account started or stopped working. */
  setAccountState(user: BareJid, state: AccountState): void;
  /** Full JIDs of the user's clients that told us they are online. */
  onlineResources(user: BareJid): string[];
}

export function registerPresence(router: Router, gateway: Gateway): PresenceActions {
  const { domain, registrations, contacts, log } = gateway;
  const states = new Map<BareJid, AccountState>();
  const online = new Map<BareJid, Set<string>>();
  // Each subscription change to a contact is a store write: as many a minute as messages.
  const contactWrites = createRateLimiter(() => gateway.limits.messagesPerMinute);
  const mayWrite = (user: BareJid): boolean => {
    if (contactWrites.take(user)) return true;
    log.warn({ user }, "subscription changes over the rate limit; not recorded");
    return false;
  };

  /** The legacy address behind a contact's local part, or the reason there is none. */
  const addressOrRefusal = (local: string): string | GatewayError => {
    try {
      return contacts.addressOf(local);
    } catch (error) {
      if (error instanceof GatewayError) return error;
      throw error;
    }
  };

  const send = (element: Element): Promise<void> =>
    gateway.send(element).catch((error: unknown) => log.warn({ to: element.attrs.to, err: error }, "could not send presence"));
  const presence = (from: string, to: string, type?: string, status?: string): Element =>
    xml("presence", { from, to, type }, status ? xml("status", {}, status) : null);
  /** Our presence as `from`: available while the user's account works, else unavailable with why. */
  const current = (from: string, to: string, user: BareJid): Element => {
    const state = states.get(user);
    return state && !state.ok ? presence(from, to, "unavailable", state.reason) : presence(from, to);
  };

  router.onPresence(async ({ stanza, from, to, target }: StanzaRequest) => {
    const user = from.bare;
    const type = stanza.attrs.type ?? "available";
    const address = target === "contact" ? addressOrRefusal(to.local) : undefined;
    if (address instanceof GatewayError) {
      // No contact can stand behind this JID (an "@" not escaped as \40, say). RFC 6121 §3.1.3 and
      // §3.2: refuse the subscription with unsubscribed, from the JID as addressed, so the user's
      // roster stops showing it pending and the client can show why.
      if (type === "subscribe" || type === "unsubscribe" || type === "probe") await send(presence(to.bare, user, "unsubscribed", address.message));
      return;
    }
    const us = address === undefined ? domain : contacts.jidOf(address);
    const registered = await registrations.isRegistered(user);

    switch (type) {
      case "subscribe":
        if (!registered) {
          await send(presence(us, user, "unsubscribed", `Register with ${domain} first.`));
          return;
        }
        await send(presence(us, user, "subscribed"));
        await send(current(us, user, user));
        if (address !== undefined && mayWrite(user)) await contacts.remember(user, address, { subscribed: true });
        return;
      case "unsubscribe":
        await send(presence(us, user, "unsubscribed"));
        await send(presence(us, user, "unavailable"));
        // Only a registered user's contact book is written: a stranger leaves no rows behind.
        if (address !== undefined && registered && mayWrite(user)) await contacts.remember(user, address, { subscribed: false });
        return;
      case "probe":
        await send(registered ? current(us, user, user) : presence(us, user, "unsubscribed"));
        return;
      case "available":
        // The user's client came online (or sent us directed presence): show it who is online here.
        if (registered && from.resource) {
          online.set(user, (online.get(user) ?? new Set()).add(from.full));
          await send(current(us, from.full, user));
        }
        return;
      case "unavailable":
        online.get(user)?.delete(from.full);
        return;
      default:
        return; // subscribed, unsubscribed, unavailable, error: nothing to answer
    }
  });

  return {
    async welcome(user) {
      await send(presence(domain, user, "subscribe"));
      await send(current(domain, user, user));
    },
    async farewell(user, contactJids) {
      states.delete(user);
      online.delete(user);
      for (const jid of [...contactJids, domain]) {
        await send(presence(jid, user, "unsubscribe"));
        await send(presence(jid, user, "unsubscribed"));
        await send(presence(jid, user, "unavailable"));
      }
    },
    async announce() {
      for await (const user of registrations.users()) void send(current(domain, user, user));
    },
    async withdraw(status) {
      const sends: Array<Promise<void>> = [];
      for await (const user of registrations.users()) sends.push(send(presence(domain, user, "unavailable", status)));
      await Promise.all(sends);
    },
    onlineResources(user) {
      return [...(online.get(user) ?? [])];
    },
    setAccountState(user, state) {
      const before = states.get(user);
      if (before?.ok === state.ok && (before.ok || (!state.ok && before.reason === state.reason))) return;
      if (!before && state.ok) {
        states.set(user, state);
        return; // working as expected from the start: nothing new to show
      }
      states.set(user, state);
      log.info({ user, ok: state.ok, reason: state.ok ? undefined : state.reason }, "account state changed");
      void (async () => {
        const known = await contacts.list(user);
        const jids = [
          domain,
          ...Object.entries(known)
            .filter(([, entry]) => entry.subscribed)
            .map(([address]) => contacts.jidOf(address)),
        ];
        for (const jid of jids) await send(current(jid, user, user));
      })().catch((error: unknown) => log.warn({ user, err: error }, "could not show the account state"));
    },
  };
}
