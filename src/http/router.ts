// Routes for the gateway's HTTP listener; transports add theirs (webhooks, attachment downloads).
import type { IncomingMessage, ServerResponse } from "node:http";

export type HttpHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => unknown;

/** What an instance standing by for the route's domain answers when it keeps a request for the
 *  holder to replay (see src/http/relay.ts): the provider must be told "received", in its terms. */
export interface RelayAnswer {
  status: number;
  contentType?: string;
  body?: string;
}

export interface RouteOptions {
  /** Set on webhooks: a standby instance takes them in for the domain's holder. */
  relay?: RelayAnswer;
}

export interface HttpRouter {
  /** `path` is exact, or a prefix when it ends with `/*`. */
  add(method: "GET" | "POST" | "PUT" | "DELETE" | "HEAD", path: string, handler: HttpHandler, options?: RouteOptions): void;
}

/** A route as a standby instance learns it from the store. */
export interface RelayRoute {
  method: string;
  path: string;
  answer: RelayAnswer;
}

/** Whether `pathname` is the route's path, or under it when the route is a prefix (`/*`). */
export function routeMatches(routePath: string, pathname: string): boolean {
  return routePath.endsWith("/*") ? pathname.startsWith(routePath.slice(0, -1)) : pathname === routePath;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Route {
  method: string;
  path: string;
  prefix: boolean;
  handler: HttpHandler;
}

export interface MatchingRouter extends HttpRouter {
  match(method: string, path: string): HttpHandler | "wrong-method" | undefined;
  /** Asked when no route matches; true when it answered the request. */
  fallback?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
}

export function createRouter(): MatchingRouter {
  const routes: Route[] = [];
  return {
    add(method, path, handler) {
      const prefix = path.endsWith("/*");
      routes.push({ method, path: prefix ? path.slice(0, -1) : path, prefix, handler });
    },
    match(method, path) {
      const matching = routes.filter((route) => (route.prefix ? path.startsWith(route.path) : path === route.path));
      if (matching.length === 0) return undefined;
      const wanted = method === "HEAD" ? ["HEAD", "GET"] : [method];
      return matching.find((route) => wanted.includes(route.method))?.handler ?? "wrong-method";
    },
  };
}
