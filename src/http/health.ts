// /healthz (alive, with each component link's state) and /readyz (every link online).
import type { HttpRouter } from "./router.js";

interface LinkView {
  domain: string;
  link: { state: string };
}

export function registerHealth(router: HttpRouter, services: LinkView[]): void {
  const states = () => Object.fromEntries(services.map((service) => [service.domain, service.link.state]));
  const json = (res: import("node:http").ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(`${JSON.stringify(body)}\n`);
  };
  router.add("GET", "/healthz", (_req, res) => {
    const links = states();
    json(res, 200, { status: Object.values(links).every((state) => state === "online") ? "ok" : "degraded", links });
  });
  router.add("GET", "/readyz", (_req, res) => {
    const links = states();
    const ready = Object.values(links).every((state) => state === "online");
    json(res, ready ? 200 : 503, { ready, links });
  });
}
