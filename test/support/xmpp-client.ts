// A real XMPP client (xmpp.js) logged in to the test Prosody, with helpers to wait for stanzas.
import { client as createClient, xml, type Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml-element";

export { xml };
export type { Element };

export class TestClient {
  readonly received: Element[] = [];
  private waiters: Array<{ match: (el: Element) => boolean; resolve: (el: Element) => void }> = [];

  private constructor(
    readonly xmpp: Client,
    readonly jid: string,
  ) {
    xmpp.on("stanza", (stanza: Element) => {
      const waiter = this.waiters.find((candidate) => candidate.match(stanza));
      if (waiter) {
        this.waiters = this.waiters.filter((candidate) => candidate !== waiter);
        waiter.resolve(stanza);
      } else {
        this.received.push(stanza);
      }
    });
  }

  static async login(
    port: number,
    domain: string,
    username: string,
    password: string,
    options: { presence?: boolean; resource?: string } = {},
  ): Promise<TestClient> {
    const xmpp = createClient({
      service: `xmpp://127.0.0.1:${port}`,
      domain,
      resource: options.resource ?? "test",
      credentials: (authenticate: (creds: unknown, mechanism: string) => Promise<void>) => authenticate({ username, password }, "PLAIN"),
    });
    xmpp.reconnect.stop();
    xmpp.on("error", () => undefined);
    await xmpp.start();
    // Plain TCP, or (after STARTTLS) @xmpp/client's wrapper around the TLSSocket.
    const socket = xmpp.socket as unknown as { setNoDelay?: (noDelay: boolean) => void; socket?: { setNoDelay?: (noDelay: boolean) => void } } | undefined;
    if (socket?.setNoDelay) socket.setNoDelay(true);
    else socket?.socket?.setNoDelay?.(true);
    const client = new TestClient(xmpp, `${username}@${domain}`);
    // Like a real client: fetch the roster first (the server only passes subscription requests
    // to resources that did), then go online.
    await xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    if (options.presence !== false) {
      await xmpp.send(xml("presence", {}));
      // The server echoes the presence once this resource is available: until then a message to
      // the bare JID may go to the user's other resources only.
      const self = client.fullJid;
      const deadline = Date.now() + 5_000;
      while (!client.received.some((stanza) => stanza.name === "presence" && stanza.attrs.from === self && !stanza.attrs.type) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    return client;
  }

  /** Whether the connection went over TLS (STARTTLS). */
  get encrypted(): boolean {
    // After STARTTLS, @xmpp/client's socket wraps the TLSSocket.
    return Boolean((this.xmpp.socket as unknown as { socket?: { encrypted?: boolean } } | undefined)?.socket?.encrypted);
  }

  get fullJid(): string {
    return this.xmpp.jid?.toString() ?? this.jid;
  }

  send(element: Element): Promise<void> {
    return this.xmpp.send(element);
  }

  /** An iq round trip; resolves with the whole reply, result or error. */
  async iq(element: Element, timeoutMs = 5_000): Promise<Element> {
    const id = element.attrs.id ?? `c-${Math.random().toString(36).slice(2)}`;
    element.attrs.id = id;
    const reply = this.waitFor(
      (stanza) => stanza.name === "iq" && stanza.attrs.id === id && (stanza.attrs.type === "result" || stanza.attrs.type === "error"),
      timeoutMs,
    );
    await this.send(element);
    return reply;
  }

  /** The first stanza (already received or still to come) that matches. */
  waitFor(match: (stanza: Element) => boolean, timeoutMs = 5_000): Promise<Element> {
    const index = this.received.findIndex(match);
    if (index !== -1) return Promise.resolve(this.received.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (stanza: Element) => {
          clearTimeout(timer);
          resolve(stanza);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((candidate) => candidate !== waiter);
        reject(new Error(`no matching stanza within ${timeoutMs} ms; received: ${this.received.map(String).join("\n") || "nothing"}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Messages with a body received so far (and not taken by waitFor). */
  messages(from?: string): Element[] {
    return this.received.filter((stanza) => stanza.name === "message" && stanza.getChild("body") && (!from || stanza.attrs.from?.startsWith(from)));
  }

  async stop(): Promise<void> {
    await this.xmpp.stop().catch(() => undefined);
  }
}

export function errorText(stanza: Element): string {
  return stanza.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas") ?? "";
}

export function errorCondition(stanza: Element): string {
  return (
    stanza
      .getChild("error")
      ?.getChildElements()
      .find((child) => child.attrs.xmlns === "urn:ietf:params:xml:ns:xmpp-stanzas" && child.name !== "text")?.name ?? ""
  );
}
