// Dispatches incoming stanzas: iqs by namespace to one handler each, messages and presences to
// their handlers; whatever a handler throws is answered as a stanza error, never fatal.
import type { Logger } from "pino";
import { asGatewayError, gatewayError } from "../errors.js";
import { parseJid, type ParsedJid } from "../xmpp/jid.js";
import { xml, type Element } from "../xmpp/xml.js";
import { errorReply } from "./stanza-errors.js";

/** Who a stanza is for: the transport itself, a contact (a legacy address), or a group chat the
 *  transport hosts (docs/groups.md). */
export type Target = "service" | "contact" | "room";

export interface StanzaRequest {
  stanza: Element;
  from: ParsedJid;
  to: ParsedJid;
  target: Target;
}

export interface IqRequest extends StanzaRequest {
  type: "get" | "set";
  payload: Element;
}

/** Returns the payload of the result (or nothing for an empty result), or throws a GatewayError. */
export type IqHandler = (request: IqRequest) => Promise<Element | void> | Element | void;
export type StanzaHandler = (request: StanzaRequest) => Promise<void> | void;

export interface Router {
  /** One handler per request kind and target: a room's disco#info need not be the contacts'. */
  iq(type: "get" | "set", xmlns: string, name: string, handler: IqHandler, targets?: Target[]): void;
  /** Messages and presences to the service and contacts; with `target` "room", those to rooms. */
  onMessage(handler: StanzaHandler, target?: "room"): void;
  onPresence(handler: StanzaHandler, target?: "room"): void;
  dispatch(stanza: Element): Promise<void>;
}

export function createRouter(options: {
  domain: string;
  log: Logger;
  send: (element: Element) => Promise<void>;
  /** Whether a stanza to this local part is for a room rather than a contact. A room's local part
   *  never parses as an address; a name of the user's choosing is a room only once it exists or
   *  when the stanza joins it, so the answer may need the store (docs/groups.md). */
  isRoom?: (local: string, from: ParsedJid, stanza: Element) => boolean | Promise<boolean>;
}): Router {
  const { domain, log, send } = options;
  const isRoom = options.isRoom ?? (() => false);
  const iqs = new Map<string, IqHandler>();
  let messageHandler: StanzaHandler = () => undefined;
  let presenceHandler: StanzaHandler = () => undefined;
  let roomMessageHandler: StanzaHandler = () => {
    throw gatewayError("item-not-found", "There is no such group chat here.");
  };
  let roomPresenceHandler: StanzaHandler = () => undefined;

  const reply = (element: Element): void => {
    send(element).catch((error: unknown) => log.warn({ err: error, to: element.attrs.to }, "could not send a reply"));
  };

  const handleIq = async (request: StanzaRequest): Promise<void> => {
    const { stanza, target } = request;
    const type = stanza.attrs.type;
    if (type === "result" || type === "error") return; // answers to iqs we did not send, or sent long ago
    if (type !== "get" && type !== "set") throw gatewayError("bad-request", `An iq must have type get or set, not "${type ?? ""}".`);
    const payloads = stanza.getChildElements();
    const payload = payloads[0];
    if (!payload || payloads.length !== 1) throw gatewayError("bad-request", "An iq get or set must carry exactly one payload element.");
    const xmlns = payload.attrs.xmlns ?? "";
    const handler = iqs.get(`${target} ${type} ${xmlns} ${payload.name}`);
    if (!handler) {
      const who = target === "service" ? "This gateway" : target === "room" ? "This group chat" : "This contact";
      throw gatewayError("service-unavailable", `${who} does not answer ${type} requests for <${payload.name} xmlns='${xmlns}'/>.`);
    }
    const result = await handler({ ...request, type, payload });
    const answer = xml("iq", { type: "result", from: stanza.attrs.to, to: stanza.attrs.from, id: stanza.attrs.id });
    if (result) answer.append(result);
    reply(answer);
  };

  return {
    iq(type, xmlns, name, handler, targets = ["service"]) {
      for (const target of targets) iqs.set(`${target} ${type} ${xmlns} ${name}`, handler);
    },
    onMessage(handler, target) {
      if (target === "room") roomMessageHandler = handler;
      else messageHandler = handler;
    },
    onPresence(handler, target) {
      if (target === "room") roomPresenceHandler = handler;
      else presenceHandler = handler;
    },
    async dispatch(stanza) {
      const from = parseJid(stanza.attrs.from ?? "");
      const to = parseJid(stanza.attrs.to ?? domain);
      try {
        if (!stanza.attrs.from) throw gatewayError("bad-request", "Stanzas from the server must carry a from address.");
        if (to.domain !== domain) throw gatewayError("item-not-found", `This component serves ${domain}, not ${to.domain}.`);
        const target: Target = to.local === "" ? "service" : (await isRoom(to.local, from, stanza)) ? "room" : "contact";
        const request: StanzaRequest = { stanza, from, to, target };
        if (stanza.name === "iq") await handleIq(request);
        else if (stanza.name === "message") await (target === "room" ? roomMessageHandler : messageHandler)(request);
        else if (stanza.name === "presence") await (target === "room" ? roomPresenceHandler : presenceHandler)(request);
      } catch (thrown) {
        const error = asGatewayError(thrown);
        const logged = { from: from.full, to: to.full, stanza: stanza.name, code: error.code, reason: error.message };
        if (error.condition === "internal-server-error") log.error({ ...logged, err: error.cause }, "stanza handler failed");
        else log.info(logged, "stanza refused");
        // Never answer an error with an error: that is how two entities loop forever.
        if (stanza.attrs.type === "error" || !stanza.attrs.from) return;
        if (stanza.name === "presence") return;
        reply(errorReply(stanza, error));
      }
    },
  };
}
