// Routes for the gateway's HTTP listener; transports add theirs (webhooks, attachment downloads).
import type { IncomingMessage, ServerResponse } from "node:http";

export type HttpHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => unknown;

export interface HttpRouter {
  /** `path` is exact, or a prefix when it ends with `/*`. */
  add(method: "GET" | "POST" | "PUT" | "DELETE" | "HEAD", path: string, handler: HttpHandler): void;
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

export function createRouter(): HttpRouter & { match(method: string, path: string): HttpHandler | "wrong-method" | undefined } {
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
