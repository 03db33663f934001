// The gateway's HTTP listener: health for operators, webhooks and downloads for transports.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { createRouter, HttpError, type MatchingRouter } from "./router.js";

export interface HttpListener {
  router: MatchingRouter;
  start(): Promise<number>;
  stop(): Promise<void>;
}

export function createHttpListener(options: { host: string; port: number; log: Logger }): HttpListener {
  const { log } = options;
  const router = createRouter();
  let server: Server | null = null;

  const handle = async (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://gateway.invalid");
    const handler = router.match(req.method ?? "GET", url.pathname);
    try {
      if (handler === undefined) {
        if (router.fallback && (await router.fallback(req, res, url))) return;
        throw new HttpError(404, "Not found");
      }
      if (handler === "wrong-method") throw new HttpError(405, "Method not allowed");
      await handler(req, res, url);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof HttpError ? error.message : "Internal error";
      if (status >= 500) log.error({ err: error, path: url.pathname }, "http handler failed");
      else log.info({ status, path: url.pathname, reason: message }, "http request refused");
      if (!res.headersSent) {
        res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...(status === 405 ? { allow: "GET, POST" } : {}) });
        res.end(`${message}\n`);
      } else {
        res.destroy();
      }
    }
  };

  return {
    router,
    start() {
      return new Promise((resolve, reject) => {
        server = createServer((req, res) => void handle(req, res));
        server.requestTimeout = 30_000;
        server.headersTimeout = 10_000;
        server.once("error", reject);
        server.listen(options.port, options.host, () => {
          const { port } = server!.address() as AddressInfo;
          log.info({ host: options.host, port }, "http listener ready");
          resolve(port);
        });
      });
    },
    stop() {
      return new Promise((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
