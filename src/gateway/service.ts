// One transport's XMPP face: wires the stanza handlers, the inbox and outbox, and the transport.
import type { Logger } from "pino";
import type { Config } from "../config/schema.js";
import type { HttpRouter } from "../http/router.js";
import type { MediaStore } from "../http/media.js";
import type { SecretBox } from "../store/secrets.js";
import type { Store } from "../store/store.js";
import type { Delivery, InboundMessage, Transport, TransportContext } from "../transport/contract.js";
import type { ComponentLink } from "../xmpp/link.js";
import type { Element } from "../xmpp/xml.js";
import { createAccess } from "./access.js";
import { createContacts } from "./contacts.js";
import { createDeliveryTracker } from "./delivery-status.js";
import { registerDisco } from "./disco.js";
import type { Gateway } from "./gateway.js";
import { registerGatewayIq } from "./gateway-iq.js";
import { createKeyedQueue } from "./keyed-queue.js";
import { createInbox } from "./message-in.js";
import { registerMessageOut } from "./message-out.js";
import { createOutbox } from "./outbox.js";
import { registerPresence } from "./presence.js";
import { createRateLimiter } from "./rate-limit.js";
import { registerRegistration } from "./register.js";
import { createRegistrations } from "./registrations.js";
import { createRouter } from "./router.js";
import { createServiceChat } from "./service-chat.js";
import { registerVersionAndPing } from "./version-ping.js";

export interface GatewayServiceOptions {
  transport: Transport;
  link: ComponentLink;
  store: Store;
  secrets: SecretBox;
  log: Logger;
  config: Config;
  serverDomain: string;
  http: HttpRouter;
  media: MediaStore;
  publicUrl: string;
  /** First outbox retry delay (tests shorten it). */
  retryBaseMs?: number;
}

export interface GatewayService {
  readonly domain: string;
  readonly link: ComponentLink;
  readonly transport: Transport;
  deliver(message: InboundMessage): Promise<Delivery>;
  setPublicUrl(url: string): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createGatewayService(options: GatewayServiceOptions): GatewayService {
  const { transport, link, store, config, serverDomain } = options;
  const domain = link.domain;
  const log = options.log.child({ transport: transport.name });
  const table = <T>(name: string) => store.table<T>(`${transport.name}.${name}`);

  const gateway: Gateway = {
    domain,
    serverDomain,
    transport,
    log,
    limits: config.limits,
    access: createAccess({ register: config.access.register, admins: config.access.admins, serverDomain }),
    registrations: createRegistrations(table("registrations"), options.secrets, transport.secretFields),
    contacts: createContacts({ domain, codec: transport.address, table: table("contacts") }),
    send: (element: Element) => link.send(element),
  };

  const router = createRouter({ domain, log, send: gateway.send });
  const tracker = createDeliveryTracker(gateway, table("sent"));
  const outbox = createOutbox({
    table: table("outbox"),
    transport,
    registrations: gateway.registrations,
    log,
    retryForMs: config.limits.retryForHours * 3_600_000,
    events: tracker,
    ...(options.retryBaseMs !== undefined && { retryBaseMs: options.retryBaseMs }),
  });
  const inbox = createInbox(gateway, { pending: table("inbox"), seen: table("inbox-seen"), records: table("delivered") });
  const presence = registerPresence(router, gateway);

  registerDisco(router, gateway);
  registerVersionAndPing(router, gateway);
  registerGatewayIq(router, gateway);
  registerRegistration(router, gateway, {
    async registered(user, isNew) {
      if (isNew) await presence.welcome(user);
    },
    async unregistered(user) {
      const known = await gateway.contacts.list(user);
      await outbox.dropUser(user);
      await gateway.contacts.forget(user);
      await presence.farewell(user, Object.keys(known).map((address) => gateway.contacts.jidOf(address)));
    },
  });
  registerMessageOut(router, gateway, {
    outbox,
    rateLimiter: createRateLimiter(config.limits.messagesPerMinute),
    seen: table("outbox-seen"),
    inbound: table("delivered"),
    toService: createServiceChat(gateway),
  });

  // Stanzas from one sender are handled in order; different senders in parallel.
  const senders = createKeyedQueue();
  const onStanza = (stanza: Element): void => {
    void senders.run(stanza.attrs.from?.split("/")[0] ?? "", () => router.dispatch(stanza));
  };
  const onOnline = (): void => {
    presence.announce().catch((error: unknown) => log.warn({ err: error }, "could not announce presence"));
  };

  let publicUrl = options.publicUrl;
  const context: TransportContext = {
    domain,
    log,
    table: (name) => table(`t.${name}`),
    http: options.http,
    media: options.media,
    get publicUrl() {
      return publicUrl;
    },
    deliver: (message) => inbox.deliver(message),
    reportStatus: (providerId, status) => tracker.report(providerId, status),
    async *registrations() {
      for await (const registration of gateway.registrations.all()) yield [registration.user, registration.fields];
    },
  };

  return {
    domain,
    link,
    transport,
    deliver: (message) => inbox.deliver(message),
    setPublicUrl(url) {
      publicUrl = url;
    },
    async start() {
      link.on("stanza", onStanza);
      link.on("online", onOnline);
      await transport.start(context);
      const [redelivered, resent] = await Promise.all([inbox.resume(), outbox.resume()]);
      if (redelivered + resent > 0) log.info({ redelivered, resent }, "resumed work left by the previous run");
      link.start();
    },
    async stop() {
      if (link.state === "online") {
        await Promise.race([presence.withdraw("The gateway is restarting"), new Promise((resolve) => setTimeout(resolve, 2_000))]);
      }
      await outbox.stop();
      await transport.stop();
      link.off("stanza", onStanza);
      link.off("online", onOnline);
      await link.stop();
      await senders.idle();
    },
  };
}
