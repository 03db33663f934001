// Prometheus metrics (prom-client), one registry per gateway process, passed to whoever counts.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { VERSION } from "./version.js";

export interface Metrics {
  registry: Registry;
  /** direction: in (to XMPP) | out (to the legacy network); result: delivered, accepted, failed, refused, duplicate, filtered. */
  messages: Counter<"transport" | "direction" | "result">;
  retries: Counter<"transport">;
  outboxDepth: Gauge<"transport">;
  linkUp: Gauge<"domain">;
  /** Component links lost while online (server restarts, network, stream errors). */
  linkDrops: Counter<"domain">;
  /** Stanzas the server closed the stream on twice, set aside instead of sent again. */
  stanzasRefused: Counter<"domain">;
  /** Live legacy sessions (IMAP connections, ...) as the transport counts them. */
  sessions: Gauge<"transport" | "state">;
  webhookRejections: Counter<"transport" | "reason">;
  relayedWebhooks: Counter<"transport" | "result">;
  /** Seconds from when the gateway took a message in to when the other side accepted it:
   *  out, the transport's provider or mail server; in, the XMPP server (the iq barrier). */
  deliveryLatency: Histogram<"transport" | "direction">;
  /** SIGHUP reloads of the config file: applied (something changed), unchanged, refused (invalid). */
  configReloads: Counter<"result">;
  /** Sends the provider or mail server refused or failed, by its own code (Twilio 21211, SMTP 550). */
  providerErrors: Counter<"transport" | "code">;
  /** Read from each watched transport at scrape time (see watch). */
  inboxDepth: Gauge<"transport">;
  outboxOldestAge: Gauge<"transport">;
  inboxOldestAge: Gauge<"transport">;
  registrations: Gauge<"transport">;
  /** Adds a transport whose queues and registrations the gauges above read at each scrape. */
  watch(transport: string, source: WatchedTransport): void;
}

/** What the scrape-time gauges read of one transport. */
export interface WatchedTransport {
  /** How many wait in each queue, and since when (ms since the epoch) the oldest has waited. */
  backlog(): Promise<Record<"outbox" | "inbox", { count: number; oldestAt?: number }>>;
  registrations(): Promise<number>;
}

interface Reading {
  transport: string;
  now: number;
  backlog: Awaited<ReturnType<WatchedTransport["backlog"]>>;
  registrations: number;
}

/** From 10 ms (a loopback SMTP relay) to a day (retries with back-off). */
export const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600];

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Node's process metrics under their standard names, behind our prefix once:
  // switchboard_process_cpu_seconds_total, switchboard_nodejs_heap_size_used_bytes, ...
  collectDefaultMetrics({ register: registry, prefix: "switchboard_" });
  new Gauge({
    name: "switchboard_build_info",
    help: "Always 1; the running version and Node.js in labels",
    labelNames: ["version", "node"],
    registers: [registry],
  }).set({ version: VERSION, node: process.versions.node }, 1);
  const watched = new Map<string, WatchedTransport>();
  let reading: Promise<Array<Reading | undefined>> | undefined;
  /** The store's answers for every watched transport, read once per scrape: prom-client starts every
   *  metric's collect() in the same turn, so they share the read in flight. A transport whose store
   *  fails is left out (its gauges keep their last values). */
  const read = (): Promise<Array<Reading | undefined>> => {
    reading ??= Promise.all(
      [...watched].map(async ([transport, source]) => {
        try {
          const [backlog, registrations] = await Promise.all([source.backlog(), source.registrations()]);
          return { transport, now: Date.now(), backlog, registrations };
        } catch {
          return undefined;
        }
      }),
    ).finally(() => {
      reading = undefined;
    });
    return reading;
  };
  const scraped = (set: (gauge: Gauge<"transport">, reading: Reading) => void) =>
    async function (this: Gauge<"transport">): Promise<void> {
      for (const reading of await read()) if (reading) set(this, reading);
    };
  const age = (oldestAt: number | undefined, now: number): number => (oldestAt === undefined ? 0 : Math.max(0, (now - oldestAt) / 1000));

  return {
    registry,
    watch(transport, source) {
      watched.set(transport, source);
    },
    providerErrors: new Counter({
      name: "switchboard_provider_errors_total",
      help: "Sends the provider or mail server refused or failed, by its own code (Twilio error code, SMTP reply code, or the connection failure)",
      labelNames: ["transport", "code"],
      registers: [registry],
    }),
    inboxDepth: new Gauge({
      name: "switchboard_inbox_depth",
      help: "Incoming messages stored and not yet confirmed by the XMPP server",
      labelNames: ["transport"],
      registers: [registry],
      collect: scraped((gauge, { transport, backlog }) => gauge.set({ transport }, backlog.inbox.count)),
    }),
    outboxOldestAge: new Gauge({
      name: "switchboard_outbox_oldest_age_seconds",
      help: "How long the oldest message in the outbox has waited since the gateway took it in (0 when none waits)",
      labelNames: ["transport"],
      registers: [registry],
      collect: scraped((gauge, { transport, now, backlog }) => gauge.set({ transport }, age(backlog.outbox.oldestAt, now))),
    }),
    inboxOldestAge: new Gauge({
      name: "switchboard_inbox_oldest_age_seconds",
      help: "How long the oldest incoming message not yet confirmed by the XMPP server has waited (0 when none waits)",
      labelNames: ["transport"],
      registers: [registry],
      collect: scraped((gauge, { transport, now, backlog }) => gauge.set({ transport }, age(backlog.inbox.oldestAt, now))),
    }),
    registrations: new Gauge({
      name: "switchboard_registrations",
      help: "Users registered with each transport",
      labelNames: ["transport"],
      registers: [registry],
      collect: scraped((gauge, { transport, registrations }) => gauge.set({ transport }, registrations)),
    }),
    messages: new Counter({
      name: "switchboard_messages_total",
      help: "Messages handled, by transport, direction and result",
      labelNames: ["transport", "direction", "result"],
      registers: [registry],
    }),
    retries: new Counter({
      name: "switchboard_send_retries_total",
      help: "Sends that failed temporarily and were scheduled again",
      labelNames: ["transport"],
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: "switchboard_outbox_depth",
      help: "Outgoing messages waiting in the durable outbox",
      labelNames: ["transport"],
      registers: [registry],
    }),
    linkUp: new Gauge({
      name: "switchboard_component_link_up",
      help: "1 while the component link to the XMPP server is online",
      labelNames: ["domain"],
      registers: [registry],
    }),
    linkDrops: new Counter({
      name: "switchboard_component_link_drops_total",
      help: "Component links lost while online",
      labelNames: ["domain"],
      registers: [registry],
    }),
    stanzasRefused: new Counter({
      name: "switchboard_stanzas_refused_total",
      help: "Stanzas set aside because the server closed the stream on them twice",
      labelNames: ["domain"],
      registers: [registry],
    }),
    sessions: new Gauge({
      name: "switchboard_transport_sessions",
      help: "Sessions a transport holds with legacy servers (IMAP connections...)",
      labelNames: ["transport", "state"],
      registers: [registry],
    }),
    webhookRejections: new Counter({
      name: "switchboard_webhook_rejections_total",
      help: "Webhook requests refused, by reason",
      labelNames: ["transport", "reason"],
      registers: [registry],
    }),
    relayedWebhooks: new Counter({
      name: "switchboard_relayed_webhooks_total",
      help: "Webhooks a standby instance kept for the domain's holder (kept), and what became of them there (replayed, refused, expired)",
      labelNames: ["transport", "result"],
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: "switchboard_delivery_latency_seconds",
      help: "From when the gateway took a message in to when the other side accepted it (out: the transport's provider or mail server; in: the XMPP server)",
      labelNames: ["transport", "direction"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    configReloads: new Counter({
      name: "switchboard_config_reloads_total",
      help: "Config reloads on SIGHUP, by result: applied, unchanged, refused",
      labelNames: ["result"],
      registers: [registry],
    }),
  };
}
