// Builds a running Switchboard from a validated config: store, HTTP listener, and one component
// link plus gateway service per transport.
import { dirname, join, resolve } from "node:path";
import type { Logger } from "pino";
import type { Config } from "./config/schema.js";
import { createGatewayService, type GatewayService } from "./gateway/service.js";
import { registerHealth } from "./http/health.js";
import { createHttpListener } from "./http/server.js";
import { createMediaStore } from "./http/media.js";
import { createUploadMediaStore } from "./http/upload.js";
import { createRelay } from "./http/relay.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createSecretBox } from "./store/secrets.js";
import { openLeases } from "./store/leases.js";
import { openStore, type Store } from "./store/store.js";
import type { RelayRoute } from "./http/router.js";
import type { Transport } from "./transport/contract.js";
import { loadTransportModule, transportOptions } from "./load-transport.js";
import { ComponentLink } from "./xmpp/link.js";

export interface Switchboard {
  services: GatewayService[];
  metrics: Metrics;
  store: Store;
  httpPort: number;
  stop(): Promise<void>;
  /** Lost the hold on the domains: keep what the server still sends in the journal, close the streams. */
  quiesce(): Promise<void>;
}

export interface StartOptions {
  log: Logger;
  /** Transports made by the caller (tests), by config section name; others are loaded by name. */
  transports?: Record<string, Transport>;
  retryBaseMs?: number;
  /** This instance lost its hold on its domains (its store connection ended): by default its
   *  services stop; run() exits instead, so that the service manager starts it again as a standby. */
  onLeaseLost?: (reason: string) => void;
}

/** The server's domain: configured, or the component domain without its first label. */
export function serverDomainOf(config: Config): string {
  if (config.xmpp.serverDomain) return config.xmpp.serverDomain;
  const first = Object.values(config.transports)[0];
  return first ? first.domain.split(".").slice(1).join(".") || first.domain : "localhost";
}

/** Next to the SQLite file; for network stores, a folder in the working directory. */
function defaultJournalDir(uri: string): string {
  const file = uri.replace(/^sqlite:\/\//i, "");
  return uri.toLowerCase().startsWith("sqlite://") && file !== ":memory:" ? dirname(resolve(file)) : resolve("journal");
}

export async function startSwitchboard(config: Config, options: StartOptions): Promise<Switchboard> {
  const { log } = options;
  const serverDomain = serverDomainOf(config);
  const transports: Array<[string, Transport]> = [];
  for (const [name, section] of Object.entries(config.transports)) {
    const given = options.transports?.[name];
    if (given) {
      transports.push([name, given]);
      continue;
    }
    const module = await loadTransportModule(name, section);
    transports.push([name, module.create(transportOptions(name, module, section), log.child({ transport: name }))]);
  }

  const store = await openStore(config.store.uri, log, { sync: config.store.sync });
  const secrets = createSecretBox(config.store.secretKey, config.store.previousSecretKeys);
  const metrics = createMetrics();
  const http = createHttpListener({ host: config.http.host, port: config.http.port, log });
  let publicUrl = "";
  const relay = createRelay({
    router: http.router,
    routes: store.table<RelayRoute[]>("relay-routes"),
    ledgerOf: (name) => store.ledger.forTransport(name),
    transports: transports.map(([, transport]) => transport.name),
    log,
    metrics,
    shared: !/^sqlite:/i.test(config.store.uri),
  });
  const media = createMediaStore({
    dir: config.media.dir,
    router: http.router,
    publicUrl: () => publicUrl,
    retentionDays: config.media.retentionDays,
    maxBytes: config.media.maxBytes,
    log,
  });
  const services = transports.map(([name, transport]) => {
    const section = config.transports[name]!;
    const link = new ComponentLink({
      host: config.xmpp.host,
      port: config.xmpp.port,
      domain: section.domain,
      secret: section.secret,
      serverDomain,
      log: log.child({ link: section.domain }),
      pingIntervalMs: config.xmpp.pingIntervalSeconds * 1000,
      pingTimeoutMs: config.xmpp.pingTimeoutSeconds * 1000,
      reconnectMinMs: config.xmpp.reconnectMinSeconds * 1000,
      reconnectMaxMs: config.xmpp.reconnectMaxSeconds * 1000,
      maxQueue: config.limits.maxQueuedStanzas,
    });
    return createGatewayService({
      transport,
      link,
      store,
      secrets,
      log,
      config,
      serverDomain,
      http: relay.routerFor(transport.name),
      // Each component asks the server's upload service over its own link, from its own JID.
      media: config.media.uploadService
        ? createUploadMediaStore({ link, service: config.media.uploadService, serverDomain, fallback: media, log: log.child({ link: section.domain }) })
        : media,
      metrics,
      section,
      journalFile: join(config.store.journalDir ?? defaultJournalDir(config.store.uri), `${name}.intake.journal`),
      publicUrl: "", // filled below once the listener's port is known
      ...(options.retryBaseMs !== undefined && { retryBaseMs: options.retryBaseMs }),
    });
  });
  registerHealth(http.router, services);
  http.router.add("GET", "/metrics", async (_req, res) => {
    res.writeHead(200, { "content-type": metrics.registry.contentType });
    res.end(await metrics.registry.metrics());
  });
  const httpPort = await http.start();
  publicUrl = (config.http.publicUrl ?? `http://${config.http.host.includes(":") ? `[${config.http.host}]` : config.http.host}:${httpPort}`).replace(/\/$/, "");
  for (const service of services) service.setPublicUrl(publicUrl);

  // Each domain runs on one instance at a time (see src/store/leases.ts); the others stand by and
  // start it when its holder goes. A domain this instance can take now starts before we return.
  const leases = await openLeases(config.store.uri, log);
  let stopping = false;
  leases.onLost((reason) => {
    if (stopping) return;
    if (options.onLeaseLost) options.onLeaseLost(reason);
    else void Promise.allSettled(services.map((service) => service.stop()));
  });
  const run = async (service: GatewayService): Promise<void> => {
    await service.start();
    await relay.publish(service.transport.name);
    relay.drain(service.transport.name);
  };
  const started: GatewayService[] = [];
  const standby: GatewayService[] = [];
  try {
    for (const service of services) {
      if (!(await leases.tryAcquire(service.domain))) {
        standby.push(service);
        continue;
      }
      await run(service);
      started.push(service);
    }
  } catch (error) {
    await Promise.allSettled(started.map((service) => service.stop()));
    await relay.stop();
    await leases.close();
    await http.stop();
    await store.close();
    throw error;
  }
  for (const service of standby) {
    // What this instance's journal held when it stopped (a crash while it held the domain) must not
    // wait until it holds the domain again, which may be never: the holder sends it.
    await service
      .handOver()
      .catch((error: unknown) => log.error({ domain: service.domain, err: error }, "could not hand the journal's messages over to the shared outbox"));
    void leases
      .acquire(service.domain)
      .then(() => (stopping ? undefined : run(service)))
      .catch((error: unknown) => {
        if (!stopping) log.error({ domain: service.domain, err: error }, "could not take over a domain");
      });
  }
  const sweeper = setInterval(() => {
    void media.sweep().catch(() => undefined);
    void store.ledger.sweep(Date.now()).catch((error: unknown) => log.warn({ err: error }, "could not sweep expired ids from the ledger"));
  }, 6 * 3_600_000);
  sweeper.unref();
  void media.sweep().catch(() => undefined);
  log.info({ transports: services.map((service) => `${service.transport.name}=${service.domain}`), serverDomain, http: publicUrl }, "switchboard started");

  return {
    services,
    metrics,
    store,
    httpPort,
    async quiesce() {
      stopping = true;
      await Promise.allSettled(services.map((service) => service.quiesce()));
    },
    async stop() {
      stopping = true;
      clearInterval(sweeper);
      await relay.stop();
      await Promise.allSettled(services.map((service) => service.stop()));
      await leases.close();
      await http.stop();
      await store.close();
      log.info("switchboard stopped");
    },
  };
}
