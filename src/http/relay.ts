// Webhooks that reach an instance standing by. With several instances on one PostgreSQL store, one
// holds each component domain and runs its transport (src/store/leases.ts); a provider's webhook may
// reach any of them. A standby keeps the request as it came (method, path, headers, body) in the
// shared ledger and answers what the provider expects; the domain's holder replays it through the
// transport's own route, which checks its signature and does the rest. So no webhook is refused
// because it reached the wrong instance, nor lost while a standby takes a domain over.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.js";
import { readBoundedBody } from "../transport/body.js";
import type { RelayedRequest, RelayRow, TransportLedger } from "../store/ledger/ledger.js";
import type { Table } from "../store/store.js";
import { HttpError, routeMatches, type HttpHandler, type HttpRouter, type MatchingRouter, type RelayRoute } from "./router.js";

/** Larger requests are refused by the standby (413); every provider's webhook is far smaller. */
const MAX_BODY_BYTES = 1024 * 1024;
/** How often a holder looks for requests the standbys kept. */
const POLL_MS = 1_000;
/** Routes a standby read from the store are trusted this long before it reads them again. */
const ROUTES_TTL_MS = 5_000;
/** A request whose replay keeps failing for a passing reason is given up after this long. */
const GIVE_UP_MS = 24 * 3_600_000;
const MAX_RETRY_MS = 60_000;
const BATCH = 50;
/** Headers that describe the hop, not the request: not kept. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"]);

export interface RelayOptions {
  router: MatchingRouter;
  /** Where each transport's webhook routes are published, for the standbys (shared store). */
  routes: Table<RelayRoute[]>;
  ledgerOf(transport: string): TransportLedger;
  /** The transports configured on this instance. */
  transports: readonly string[];
  log: Logger;
  metrics: Metrics;
  /** Whether other instances share the store. Without them there is nobody to relay for. */
  shared: boolean;
}

export interface Relay {
  /** The router to give a transport: routes it adds with `relay` are remembered for publish(). */
  routerFor(transport: string): HttpRouter;
  /** Publishes the transport's webhook routes (once it runs here), so that standbys accept them. */
  publish(transport: string): Promise<void>;
  /** This instance holds the transport's domain: replay what standbys kept for it, now and on. */
  drain(transport: string): void;
  stop(): Promise<void>;
}

export function createRelay(options: RelayOptions): Relay {
  const { router, routes, log, metrics } = options;
  const added = new Map<string, RelayRoute[]>();
  const running = new Set<string>();
  const timers = new Map<string, NodeJS.Timeout>();
  const draining = new Map<string, Promise<void>>();
  let known: { at: number; routes: Array<[string, RelayRoute[]]> } | null = null;
  let stopped = false;
  const count = (transport: string, result: string): void => metrics.relayedWebhooks.inc({ transport, result });

  const learnRoutes = async (): Promise<Array<[string, RelayRoute[]]>> => {
    if (known && Date.now() - known.at < ROUTES_TTL_MS) return known.routes;
    const found: Array<[string, RelayRoute[]]> = [];
    for (const transport of options.transports) {
      const list = await routes.get(transport);
      if (list) found.push([transport, list]);
    }
    known = { at: Date.now(), routes: found };
    return found;
  };

  if (options.shared)
    router.fallback = async (req, res, url) => {
      const method = req.method ?? "GET";
      let match: { transport: string; route: RelayRoute } | undefined;
      for (const [transport, list] of await learnRoutes()) {
        if (running.has(transport)) continue;
        const route = list.find((candidate) => candidate.method === method && routeMatches(candidate.path, url.pathname));
        if (route) {
          match = { transport, route };
          break;
        }
      }
      if (!match) return false;
      const body = await readBoundedBody(req, MAX_BODY_BYTES, "Webhook bodies");
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined || HOP_HEADERS.has(name)) continue;
        headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      const request: RelayedRequest = { method, url: req.url ?? url.pathname, headers, body: body.toString("base64") };
      // A store that keeps nothing: the provider is told to come back, as the holder would tell it.
      await options
        .ledgerOf(match.transport)
        .relayAdd(randomUUID(), request, Date.now())
        .catch((error: unknown) => {
          throw new HttpError(503, `The gateway cannot store anything right now; try again later (${(error as Error).message})`);
        });
      count(match.transport, "kept");
      log.debug({ transport: match.transport, path: url.pathname }, "kept a webhook for the instance that holds its domain");
      const { answer } = match.route;
      res.writeHead(answer.status, answer.contentType ? { "content-type": answer.contentType } : {});
      res.end(answer.body ?? "");
      return true;
    };

  const replayAll = async (transport: string): Promise<void> => {
    const ledger = options.ledgerOf(transport);
    for (;;) {
      const rows = await ledger.relayDue(Date.now(), BATCH);
      for (const row of rows) {
        if (stopped) return;
        await replayOne(transport, ledger, row);
      }
      if (rows.length < BATCH || stopped) return;
    }
  };

  const replayOne = async (transport: string, ledger: TransportLedger, row: RelayRow): Promise<void> => {
    const { request } = row;
    const url = new URL(request.url, "http://gateway.invalid");
    const handler = router.match(request.method, url.pathname);
    const outcome = typeof handler === "function" ? await replay(handler, request, url) : { status: 503, reason: "the route is not served here yet" };
    const context = { transport, path: url.pathname, status: outcome.status, waitedMs: Date.now() - row.receivedAt };
    if (outcome.status < 500) {
      await ledger.relayDone(row.id);
      if (outcome.status < 400) {
        count(transport, "replayed");
        log.debug(context, "replayed a webhook a standby kept");
      } else {
        count(transport, "refused");
        log.warn({ ...context, reason: outcome.reason }, "a webhook a standby kept was refused when replayed (the provider had been told it arrived)");
      }
      return;
    }
    if (Date.now() - row.receivedAt > GIVE_UP_MS) {
      await ledger.relayDone(row.id);
      count(transport, "expired");
      log.error({ ...context, reason: outcome.reason, attempts: row.attempts + 1 }, "gave up replaying a webhook a standby kept");
      return;
    }
    await ledger.relayRetry(row.id, Date.now() + Math.min(MAX_RETRY_MS, POLL_MS * 2 ** Math.min(row.attempts, 10)));
    log.warn({ ...context, reason: outcome.reason }, "could not replay a webhook a standby kept; trying again later");
  };

  const tick = (transport: string): void => {
    if (stopped || draining.has(transport)) return;
    const run = replayAll(transport)
      .catch((error: unknown) => log.warn({ transport, err: error }, "could not read the webhooks standbys kept; trying again shortly"))
      .finally(() => {
        draining.delete(transport);
        if (!stopped) timers.set(transport, setTimeout(() => tick(transport), POLL_MS).unref());
      });
    draining.set(transport, run);
  };

  return {
    routerFor(transport) {
      return {
        add(method, path, handler, routeOptions) {
          router.add(method, path, handler, routeOptions);
          if (!routeOptions?.relay) return;
          const list = added.get(transport) ?? [];
          list.push({ method, path, answer: routeOptions.relay });
          added.set(transport, list);
        },
      };
    },
    async publish(transport) {
      running.add(transport);
      if (!options.shared) return;
      const list = added.get(transport);
      if (list) await routes.set(transport, list);
    },
    drain(transport) {
      running.add(transport);
      if (options.shared) tick(transport);
    },
    async stop() {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      await Promise.allSettled(draining.values());
    },
  };
}

/** Runs a route's handler on a kept request; the status it answered (or threw), and why. */
async function replay(handler: HttpHandler, request: RelayedRequest, url: URL): Promise<{ status: number; reason?: string }> {
  const req = Object.assign(Readable.from([Buffer.from(request.body, "base64")]), {
    method: request.method,
    url: request.url,
    headers: request.headers,
  }) as unknown as IncomingMessage;
  const res = new RecordedResponse();
  try {
    await handler(req, res as unknown as ServerResponse, url);
    return { status: res.statusCode };
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, reason: error.message };
    return { status: 500, reason: (error as Error)?.message ?? String(error) };
  }
}

/** What a handler needs of a ServerResponse, keeping only the status it set. */
class RecordedResponse {
  statusCode = 200;
  headersSent = false;
  writeHead(status: number): this {
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }
  setHeader(): this {
    return this;
  }
  write(): boolean {
    this.headersSent = true;
    return true;
  }
  end(): this {
    this.headersSent = true;
    return this;
  }
  destroy(): this {
    return this;
  }
}
