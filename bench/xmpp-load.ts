// The Jabber side of the load: a real @xmpp/client (the tests' TestClient) that registers with a
// transport, sends chat messages and feeds every message it receives to a tally.
import { registrationForm } from "../test/support/register.js";
import { TestClient, xml, type Element } from "../test/support/xmpp-client.js";
import { DOMAIN, PASSWORD } from "./servers.js";
import { nowMs } from "./stats.js";

export async function login(port: number, user: string, presence = true): Promise<TestClient> {
  return TestClient.login(port, DOMAIN, user, PASSWORD, { presence, resource: "bench" });
}

/** Registers (XEP-0077 with a data form) and accepts the transport's subscription request, if it
 *  sends one (a user who was subscribed in an earlier run gets none). */
export async function register(client: TestClient, transport: string, values: Record<string, string>, timeoutMs = 30_000): Promise<void> {
  const accept = (stanza: Element): void => {
    if (stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === transport)
      void client.send(xml("presence", { to: transport, type: "subscribed" }));
  };
  client.xmpp.on("stanza", accept);
  setTimeout(() => client.xmpp.off("stanza", accept), timeoutMs).unref();
  const reply = await client.iq(xml("iq", { type: "set", to: transport }, xml("query", { xmlns: "jabber:iq:register" }, registrationForm(values))), timeoutMs);
  if (reply.attrs.type !== "result") throw new Error(`registration with ${transport} failed: ${reply.toString()}`);
}

export interface Inbound {
  /** Chat messages with a body (errors are counted, not passed on). */
  onBody: (body: string, at: number) => void;
  errors: string[];
}

/** Watches every incoming message; the returned function stops watching. */
export function watchMessages(client: TestClient, inbound: Inbound): () => void {
  const listener = (stanza: Element): void => {
    if (stanza.name !== "message") return;
    if (stanza.attrs.type === "error") {
      if (inbound.errors.length < 20) inbound.errors.push(stanza.toString().slice(0, 500));
      else inbound.errors.push("…");
      return;
    }
    const body = stanza.getChildText("body");
    if (body !== null) inbound.onBody(body, nowMs());
  };
  client.xmpp.on("stanza", listener);
  // TestClient keeps every stanza nobody waits for; a bench run would keep 5,000 of them.
  const trim = setInterval(() => client.received.splice(0), 1_000);
  return () => {
    clearInterval(trim);
    client.xmpp.off("stanza", listener);
  };
}

export function chat(to: string, body: string, id: string): Element {
  return xml("message", { to, type: "chat", id }, xml("body", {}, body));
}
