// What every stanza handler of one transport domain shares.
import type { Logger } from "pino";
import type { Config } from "../config/schema.js";
import type { Metrics } from "../metrics.js";
import type { Transport } from "../transport/contract.js";
import type { Element } from "../xmpp/xml.js";
import type { Access } from "./state/access.js";
import type { Contacts } from "./state/contacts.js";
import type { Registrations } from "./state/registrations.js";

export interface Gateway {
  domain: string;
  serverDomain: string;
  transport: Transport;
  log: Logger;
  limits: Config["limits"];
  access: Access;
  registrations: Registrations;
  contacts: Contacts;
  metrics: Metrics;
  /** Send a stanza; resolves once the XMPP server has handled it. */
  send(element: Element): Promise<void>;
  linkState(): string;
}

export const NS = {
  discoInfo: "http://jabber.org/protocol/disco#info",
  discoItems: "http://jabber.org/protocol/disco#items",
  register: "jabber:iq:register",
  gateway: "jabber:iq:gateway",
  version: "jabber:iq:version",
  ping: "urn:xmpp:ping",
  data: "jabber:x:data",
  oob: "jabber:x:oob",
  receipts: "urn:xmpp:receipts",
  delay: "urn:xmpp:delay",
  nick: "http://jabber.org/protocol/nick",
  reply: "urn:xmpp:reply:0",
} as const;
