// The loopback network: a toy messaging service on a loopback port, the "legacy network" behind
// test/kit/loopback-transport.ts. Accounts log in with a password; any other address is a peer
// that answers what it receives ("echo: <body>") and reports each message delivered. Events
// (incoming messages, delivery reports) are posted, signed, to the one webhook the operator set,
// in order, and posted again until the webhook answers 2xx: the network keeps them while the
// gateway is down, as providers that retry their webhooks do.
//
// Its HTTP API, JSON in and out:
//   POST /login     {account, password}                 200, or 401
//   POST /messages  {account, password, to, body}       202 {id}; 401; 404 when `to` is "nobody"
//   PUT  /webhook   {url}  (Authorization: Bearer TOKEN) 204
// Events, posted to the webhook with x-loopback-signature = hex HMAC-SHA256(token, body):
//   {type: "message", id, from, to, body, sentAt}   |   {type: "status", id, state: "delivered"}
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type LoopbackEvent =
  | { type: "message"; id: string; from: string; to: string; body: string; sentAt: string }
  | { type: "status"; id: string; state: "delivered" };

export interface NetworkMessage {
  id: string;
  from: string;
  to: string;
  body: string;
}

export class LoopbackNetwork {
  readonly token = randomBytes(16).toString("hex");
  /** Every message the network carried, in order. */
  readonly messages: NetworkMessage[] = [];
  /** Every webhook answer, with the event it answered (for tests). */
  readonly posted: Array<{ event: LoopbackEvent; status: number }> = [];
  private readonly accounts = new Map<string, string>();
  private readonly queue: LoopbackEvent[] = [];
  private webhook: string | undefined;
  private server: Server | undefined;
  private pumping = false;
  private stopped = false;
  private count = 0;

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  addAccount(name: string, password: string): void {
    this.accounts.set(name, password);
  }

  /** Messages the network carried to `address`. */
  to(address: string): NetworkMessage[] {
    return this.messages.filter((message) => message.to === address);
  }

  /** `from` writes `body` to `to`: the network keeps it and posts it to the webhook when it can. */
  carry(from: string, to: string, body: string): NetworkMessage {
    const message = { id: `loop-${++this.count}`, from, to, body };
    this.messages.push(message);
    if (this.accounts.has(to)) this.emit({ type: "message", ...message, sentAt: new Date().toISOString() });
    return message;
  }

  private emit(event: LoopbackEvent): void {
    this.queue.push(event);
    void this.pump();
  }

  /** Posts queued events in order; an event that fails is posted again 100 ms later. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const event = this.queue[0]!;
        const status = this.webhook ? await this.post(this.webhook, event) : 0;
        if (status >= 200 && status < 300) this.queue.shift();
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      this.pumping = false;
    }
  }

  private async post(url: string, event: LoopbackEvent): Promise<number> {
    const body = JSON.stringify(event);
    const signature = createHmac("sha256", this.token).update(body).digest("hex");
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-loopback-signature": signature },
        body,
        signal: AbortSignal.timeout(5_000),
      });
      await response.arrayBuffer();
      this.posted.push({ event, status: response.status });
      return response.status;
    } catch {
      return 0;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const answer = (status: number, value?: unknown): void => {
      res.writeHead(status, value === undefined ? {} : { "content-type": "application/json" });
      res.end(value === undefined ? undefined : JSON.stringify(value));
    };
    let input: Record<string, string>;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, string>;
    } catch {
      return answer(400, { error: "the body is not JSON" });
    }
    const loggedIn = typeof input.account === "string" && this.accounts.get(input.account) === input.password;

    if (req.method === "PUT" && req.url === "/webhook") {
      if (req.headers.authorization !== `Bearer ${this.token}`) return answer(401, { error: "wrong token" });
      this.webhook = input.url;
      void this.pump();
      return answer(204);
    }
    if (req.method === "POST" && req.url === "/login") return loggedIn ? answer(200, {}) : answer(401, { error: "wrong account or password" });
    if (req.method === "POST" && req.url === "/messages") {
      if (!loggedIn) return answer(401, { error: "wrong account or password" });
      if (input.to === "nobody") return answer(404, { error: "no such address" });
      const message = this.carry(input.account!, input.to!, input.body ?? "");
      if (!this.accounts.has(message.to)) {
        // A peer reads what it receives, says so, and answers it.
        this.emit({ type: "status", id: message.id, state: "delivered" });
        this.carry(message.to, message.from, `echo: ${message.body}`);
      }
      return answer(202, { id: message.id });
    }
    answer(404, { error: "no such endpoint" });
  }
}
