// Prometheus metrics (prom-client), one registry per gateway process, passed to whoever counts.
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

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
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "switchboard_process_" });
  return {
    registry,
    messages: new Counter({ name: "switchboard_messages_total", help: "Messages handled, by transport, direction and result", labelNames: ["transport", "direction", "result"], registers: [registry] }),
    retries: new Counter({ name: "switchboard_send_retries_total", help: "Sends that failed temporarily and were scheduled again", labelNames: ["transport"], registers: [registry] }),
    outboxDepth: new Gauge({ name: "switchboard_outbox_depth", help: "Outgoing messages waiting in the durable outbox", labelNames: ["transport"], registers: [registry] }),
    linkUp: new Gauge({ name: "switchboard_component_link_up", help: "1 while the component link to the XMPP server is online", labelNames: ["domain"], registers: [registry] }),
    linkDrops: new Counter({ name: "switchboard_component_link_drops_total", help: "Component links lost while online", labelNames: ["domain"], registers: [registry] }),
    stanzasRefused: new Counter({ name: "switchboard_stanzas_refused_total", help: "Stanzas set aside because the server closed the stream on them twice", labelNames: ["domain"], registers: [registry] }),
    sessions: new Gauge({ name: "switchboard_transport_sessions", help: "Sessions a transport holds with legacy servers (IMAP connections...)", labelNames: ["transport", "state"], registers: [registry] }),
    webhookRejections: new Counter({ name: "switchboard_webhook_rejections_total", help: "Webhook requests refused, by reason", labelNames: ["transport", "reason"], registers: [registry] }),
    relayedWebhooks: new Counter({
      name: "switchboard_relayed_webhooks_total",
      help: "Webhooks a standby instance kept for the domain's holder (kept), and what became of them there (replayed, refused, expired)",
      labelNames: ["transport", "result"],
      registers: [registry],
    }),
  };
}
