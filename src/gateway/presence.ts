// XEP-0100 presence: the subscription handshake with the transport and its contacts, probes, and
// the transport's own availability shown to registered users.
import type { BareJid } from "../xmpp/jid.js";
import { xml, type Element } from "../xmpp/xml.js";
import type { Gateway } from "./gateway.js";
import type { Router, StanzaRequest } from "./router.js";

export interface PresenceActions {
  /** The full handshake after a new registration: ask to see the user, show the transport online. */
  welcome(user: BareJid): Promise<void>;
  /** Tell a leaving user's roster to drop the transport and every contact it knows. */
  farewell(user: BareJid, contactJids: string[]): Promise<void>;
  /** Available presence from the transport to every registered user (after connecting). */
  announce(): Promise<void>;
  /** Unavailable presence from the transport to every registered user (before shutting down). */
  withdraw(status: string): Promise<void>;
}

export function registerPresence(router: Router, gateway: Gateway): PresenceActions {
  const { domain, registrations, contacts, log } = gateway;

  const presence = (from: string, to: string, type?: string, status?: string): Element =>
    xml("presence", { from, to, type }, status ? xml("status", {}, status) : null);
  const send = (element: Element): Promise<void> =>
    gateway.send(element).catch((error: unknown) => log.warn({ to: element.attrs.to, err: error }, "could not send presence"));

  router.onPresence(async ({ stanza, from, to, target }: StanzaRequest) => {
    const user = from.bare;
    const type = stanza.attrs.type ?? "available";
    const us = target === "service" ? domain : contacts.jidOf(contacts.addressOf(to.local));
    const registered = await registrations.isRegistered(user);

    switch (type) {
      case "subscribe":
        if (!registered) {
          await send(presence(us, user, "unsubscribed", `Register with ${domain} first.`));
          return;
        }
        await send(presence(us, user, "subscribed"));
        await send(presence(us, user));
        if (target === "contact") await contacts.remember(user, contacts.addressOf(to.local), { subscribed: true });
        return;
      case "unsubscribe":
        await send(presence(us, user, "unsubscribed"));
        await send(presence(us, user, "unavailable"));
        if (target === "contact") await contacts.remember(user, contacts.addressOf(to.local), { subscribed: false });
        return;
      case "probe":
        await send(registered ? presence(us, user) : presence(us, user, "unsubscribed"));
        return;
      case "available":
        // The user's client came online (or sent us directed presence): show it who is online here.
        if (registered && from.resource) await send(presence(us, from.full));
        return;
      default:
        return; // subscribed, unsubscribed, unavailable, error: nothing to answer
    }
  });

  return {
    async welcome(user) {
      await send(presence(domain, user, "subscribe"));
      await send(presence(domain, user));
    },
    async farewell(user, contactJids) {
      for (const jid of [...contactJids, domain]) {
        await send(presence(jid, user, "unsubscribe"));
        await send(presence(jid, user, "unsubscribed"));
        await send(presence(jid, user, "unavailable"));
      }
    },
    async announce() {
      for await (const { user } of registrations.all()) void send(presence(domain, user));
    },
    async withdraw(status) {
      const sends: Array<Promise<void>> = [];
      for await (const { user } of registrations.all()) sends.push(send(presence(domain, user, "unavailable", status)));
      await Promise.all(sends);
    },
  };
}
