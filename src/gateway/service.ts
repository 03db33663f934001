// One transport's XMPP face: wires the stanza handlers, the inbox and outbox, and the transport.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Config, TransportSection } from "../config/schema.js";
import type { MediaStore } from "../http/media.js";
import type { HttpRouter } from "../http/router.js";
import type { Metrics } from "../metrics.js";
import type { SecretBox } from "../store/secrets.js";
import type { Store } from "../store/store.js";
import type { Delivery, InboundMessage, Transport, TransportContext } from "../transport/contract.js";
import type { BareJid } from "../xmpp/jid.js";
import type { ComponentLink } from "../xmpp/link.js";
import { xml, type Element } from "../xmpp/xml.js";
import { createAccess } from "./state/access.js";
import { createAccounts } from "./state/accounts.js";
import { registerAdhoc, type CommandSet } from "./handlers/commands/adhoc.js";
import { adminCommands } from "./handlers/commands/admin-commands.js";
import { chatCommand } from "./handlers/commands/chat-bot.js";
import { userCommands } from "./handlers/commands/user-commands.js";
import { createContacts } from "./state/contacts.js";
import { createDeliveryTracker } from "./delivery/delivery-status.js";
import { tellRefused, type DeadLetter } from "./delivery/dead-letters.js";
import { registerDisco } from "./handlers/disco.js";
import type { Gateway } from "./gateway.js";
import { registerGatewayIq } from "./handlers/gateway-iq.js";
import { registerGroups } from "./groups/index.js";
import { createInbox } from "./delivery/inbox.js";
import { createIntake } from "./delivery/intake.js";
import { openRecords } from "./delivery/records.js";
import { registerMessageOut } from "./handlers/message-out.js";
import { createOutbox } from "./delivery/outbox.js";
import { createPreferences, transportOptions } from "./state/preferences.js";
import { registerPresence } from "./handlers/presence.js";
import { createRateLimiter } from "../transport/rate-limit.js";
import { registerRegistration } from "./handlers/register.js";
import { createRegistrations } from "./state/registrations.js";
import { createRoster, isFromServer, privilegeOf } from "./handlers/roster.js";
import { createRouter } from "./router.js";
import { createSentTexts } from "./state/sent-texts.js";
import { createUnreadableSecrets } from "./state/unreadable-secrets.js";
import { registerVcard } from "./handlers/vcard.js";
import { registerVersionAndPing } from "./handlers/version-ping.js";

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
  metrics: Metrics;
  /** The transport's config section (per-transport limits). */
  section?: TransportSection;
  publicUrl: string;
  /** First outbox retry delay (tests shorten it). */
  retryBaseMs?: number;
  /** Where incoming messages are journaled until they are safely stored, when the store cannot
   *  record them before the first await (PostgreSQL; on SQLite the ledger does). None: no journal. */
  journalFile?: string;
}

export interface GatewayService {
  readonly domain: string;
  readonly link: ComponentLink;
  readonly transport: Transport;
  deliver(message: InboundMessage): Promise<Delivery>;
  setPublicUrl(url: string): void;
  /** For an instance that stands by: puts what its own journal file holds (messages a crash left
   *  between the XMPP server and the shared outbox) into the shared outbox for the holder to send. */
  handOver(): Promise<number>;
  /** This instance lost its hold on the domain and is about to exit: from now on what the server
   *  sends is only recorded (the journal), not handled, and the stream is closed, so that stanzas
   *  already on their way are read and kept for whoever handles them next. */
  quiesce(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createGatewayService(options: GatewayServiceOptions): GatewayService {
  const { transport, link, store, config, serverDomain, metrics } = options;
  const domain = link.domain;
  const log = options.log.child({ transport: transport.name });
  const table = <T>(name: string) => store.table<T>(`${transport.name}.${name}`);
  // Bound late: presence needs the gateway, and nothing is read before start().
  const unreadable = createUnreadableSecrets(log, (user, state) => presence.setAccountState(user, state));

  const gateway: Gateway = {
    domain,
    serverDomain,
    transport,
    log,
    metrics,
    limits: config.limits,
    // Getters: a config reload (SIGHUP, src/config/reload.ts) replaces config.access and config.limits' values.
    access: createAccess({
      get register() {
        return config.access.register;
      },
      get admins() {
        return config.access.admins;
      },
      serverDomain,
    }),
    registrations: createRegistrations(table("registrations"), options.secrets, transport.secretFields, (user, error) => unreadable.found(user, error)),
    contacts: createContacts({ domain, codec: transport.address, table: table("contacts") }),
    send: (element: Element) => link.send(element),
    linkState: () => link.state,
  };

  // Bound late: the groups are registered on the router made here, and nothing is routed before start().
  const router = createRouter({ domain, log, send: gateway.send, isRoom: (local, from, stanza) => groups.isRoom(local, from, stanza) });
  const presence = registerPresence(router, gateway);
  const preferences = createPreferences(table("preferences"));
  const sentTexts = createSentTexts(table("sent-texts"));
  const ledger = store.ledger.forTransport(transport.name);
  metrics.watch(transport.name, { backlog: () => ledger.backlog(), registrations: () => gateway.registrations.count() });
  const records = openRecords(ledger, options.journalFile, log);
  const tracker = createDeliveryTracker(gateway, ledger, preferences, (user) => presence.onlineResources(user));
  const outbox = createOutbox({
    ledger,
    transport: unreadable.guard(transport, gateway.registrations),
    registrations: gateway.registrations,
    log,
    metrics,
    retryForMs: config.limits.retryForHours * 3_600_000,
    events: tracker,
    ...(options.retryBaseMs !== undefined && { retryBaseMs: options.retryBaseMs }),
  });
  const roster = createRoster(
    gateway,
    (iq) => link.request(iq),
    (user) => presence.onlineResources(user as BareJid),
  );
  const inbox = createInbox(
    gateway,
    ledger,
    {
      async filter(user, peer) {
        if (!transport.filterIncoming) return undefined;
        const options = transportOptions(transport.preferences, (await preferences.get(user)).options);
        return transport.filterIncoming({ peer, preferences: options, wroteTo: async () => Boolean((await gateway.contacts.get(user, peer))?.wrote) });
      },
      async newContact(user, peer, nick) {
        await roster.add(user, peer, nick);
      },
      sentTo: (user, peer) => sentTexts.recent(user, peer),
    },
    records.delivered,
    { ...(options.retryBaseMs !== undefined && { retryBaseMs: options.retryBaseMs }) },
  );
  const accounts = createAccounts(gateway, {
    async registered(user, isNew) {
      if (isNew) await presence.welcome(user);
      else if (unreadable.cleared(user)) presence.setAccountState(user, { ok: true });
    },
    async unregistered(user) {
      const known = await gateway.contacts.list(user);
      // A message of theirs being sent right now would write its outcome after the removal.
      await outbox.settleUser(user, 10_000);
      // Everything the ledger holds for the user: one DELETE per table.
      await ledger.removeUser(user);
      await table("daily").deletePrefix(`${user} `);
      await deadLetters.deletePrefix(`${user}|`);
      await outbox.recount();
      await gateway.contacts.forget(user);
      await preferences.forget(user);
      await groups.forget(user);
      await sentTexts.forget(user);
      await presence.farewell(
        user,
        Object.keys(known).map((address) => gateway.contacts.jidOf(address)),
      );
    },
  });

  const groups = registerGroups(router, {
    gateway,
    table,
    outbox,
    preferences,
    rateLimiter: createRateLimiter(() => config.limits.messagesPerMinute),
    turnOf: (stanza) => intake.turnOf(stanza),
    historyLimit: () => config.limits.roomHistory,
    request: (iq) => link.request(iq),
    async filter(user, peer) {
      if (!transport.filterIncoming) return undefined;
      const options = transportOptions(transport.preferences, (await preferences.get(user)).options);
      return transport.filterIncoming({ peer, preferences: options, wroteTo: async () => Boolean((await gateway.contacts.get(user, peer))?.wrote) });
    },
  });
  const deliver = (message: InboundMessage): Promise<Delivery> =>
    message.group ? groups.deliver({ ...message, group: message.group }) : inbox.deliver(message);

  const commands: CommandSet = {
    commands: [
      ...userCommands({ gateway, accounts, preferences, addToRoster: (user, address, name) => roster.add(user, address, name) }),
      ...groups.commands,
      ...adminCommands({ gateway, accounts, outbox, metrics, rootLog: options.log }),
    ],
    async caller(user: BareJid) {
      return { user, isAdmin: gateway.access.isAdmin(user), registered: await gateway.registrations.isRegistered(user) };
    },
  };

  registerDisco(router, gateway, commands);
  registerVersionAndPing(router, gateway);
  registerGatewayIq(router, gateway);
  registerRegistration(router, accounts);
  registerAdhoc(router, commands);
  registerVcard(router, gateway);
  registerMessageOut(router, gateway, {
    outbox,
    preferences,
    rateLimiter: createRateLimiter(() => config.limits.messagesPerMinute),
    ...(options.section?.messagesPerDay && {
      daily: {
        get limit() {
          return options.section?.messagesPerDay ?? Number.MAX_SAFE_INTEGER;
        },
        table: table<number>("daily"),
      },
    }),
    delivered: (stanzaId) => inbox.record(stanzaId),
    bounced: (stanzaId, from, error) => inbox.bounced(stanzaId, from, error),
    sent: sentTexts,
    turnOf: (stanza) => intake.turnOf(stanza),
    async toService({ stanza, from }) {
      const intro = `This is ${transport.displayName} (${domain}). ${transport.address.description} Contacts are ADDRESS@${domain}.`;
      const answer = await chatCommand(commands, from.bare, stanza.getChildText("body") ?? "", intro);
      await gateway.send(xml("message", { type: "chat", from: domain, to: from.full, id: randomUUID() }, xml("body", {}, answer)));
    },
  });

  const intake = createIntake({ journal: records.intake, dispatch: (stanza) => router.dispatch(stanza), log });
  const onStanza = (stanza: Element): void => {
    if (stanza.name === "message" && privilegeOf(stanza) && isFromServer(stanza, serverDomain)) {
      roster.updatePrivileges(stanza);
      groups.updatePrivileges(stanza);
      return;
    }
    intake.take(stanza);
  };
  const deadLetters = table<DeadLetter>("dead-letters");
  const onRefused = (element: Element, condition: string): void => {
    metrics.stanzasRefused.inc({ domain });
    void tellRefused(gateway, deadLetters, element, condition).catch((error: unknown) => log.warn({ err: error }, "could not record a refused stanza"));
  };
  let wasOnline = false;
  const onState = (state: string): void => {
    if (wasOnline && state !== "online") metrics.linkDrops.inc({ domain });
    wasOnline = state === "online";
    metrics.linkUp.set({ domain }, state === "online" ? 1 : 0);
    if (state === "online") presence.announce().catch((error: unknown) => log.warn({ err: error }, "could not announce presence"));
  };

  let publicUrl = options.publicUrl;
  const context: TransportContext = {
    domain,
    log,
    metrics,
    table: (name) => table(`t.${name}`),
    http: options.http,
    media: options.media,
    get publicUrl() {
      return publicUrl;
    },
    deliver,
    reportStatus: (providerId, status) => tracker.report(providerId, status),
    setAccountState: (user, state) => presence.setAccountState(user, state),
    async *registrations() {
      yield* unreadable.readable(gateway.registrations.all());
    },
  };

  return {
    domain,
    link,
    transport,
    deliver,
    setPublicUrl(url) {
      publicUrl = url;
    },
    async handOver() {
      // Only a journal file can hold what the shared store lacks (a ledger that records at the call
      // is the store itself). Its messages go into the shared outbox, unclaimed, for the holder.
      if (records.ledgerRecordsIntake) return 0;
      const left = await intake.replay(records.intake);
      await intake.idle();
      if (left > 0) log.info({ handedOver: left }, "handed the messages this instance's journal held to the shared outbox, for the domain's holder");
      return left;
    },
    async quiesce() {
      intake.quiesce();
      await link.stop();
    },
    async start() {
      metrics.linkUp.set({ domain }, 0);
      link.on("stanza", onStanza);
      link.on("state", onState);
      link.on("refused", onRefused);
      await transport.start(context);
      // Reading every registration once finds the secrets that cannot be unsealed: their users are
      // told now (as presence once the link is up), not when they next send.
      for await (const registration of gateway.registrations.all()) void registration;
      const [redelivered, resent] = await Promise.all([inbox.resume(), outbox.resume()]);
      const replayed = (await intake.replay(records.leftIntake)) + (await intake.replay(records.intake));
      if (redelivered + resent + replayed > 0) log.info({ redelivered, resent, replayed }, "resumed work left by the previous run");
      link.start();
    },
    async stop() {
      if (link.state === "online") {
        await Promise.race([
          Promise.all([presence.withdraw("The gateway is restarting"), groups.withdraw()]),
          new Promise((resolve) => setTimeout(resolve, 2_000)),
        ]);
      }
      await outbox.stop();
      await transport.stop();
      // What is on its way to the server is let through, so the next start need not send it again.
      await inbox.settle(5_000);
      link.off("stanza", onStanza);
      link.off("state", onState);
      link.off("refused", onRefused);
      await link.stop();
      await intake.idle();
    },
  };
}
