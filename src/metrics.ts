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
  return {
    registry,
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
