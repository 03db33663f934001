// Registration steps as a Jabber client performs them.
import { DOMAIN, GATEWAY } from "./harness.js";
import { xml, type TestClient, type Element } from "./xmpp-client.js";

export function registrationForm(values: Record<string, string>): Element {
  return xml(
    "x",
    { xmlns: "jabber:x:data", type: "submit" },
    xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, "jabber:iq:register")),
    ...Object.entries(values).map(([name, value]) => xml("field", { var: name }, xml("value", {}, value))),
  );
}

export async function register(
  client: TestClient,
  values: Record<string, string> = { address: `${client.jid.split("@")[0]}@mail.example.com`, password: "secret" },
  to = GATEWAY,
): Promise<Element> {
  return client.iq(xml("iq", { type: "set", to }, xml("query", { xmlns: "jabber:iq:register" }, registrationForm(values))));
}

/** Registers and accepts the transport's subscription request, as a client's user would. */
export async function registerAndSubscribe(client: TestClient, to = GATEWAY): Promise<void> {
  const reply = await register(client, undefined, to);
  if (reply.attrs.type !== "result") throw new Error(`registration failed: ${reply.toString()}`);
  await client.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === to);
  await client.send(xml("presence", { to, type: "subscribed" }));
  await client.send(xml("presence", { to, type: "subscribe" }));
  await client.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribed" && stanza.attrs.from === to);
}

export const contactJid = (address: string, gateway = GATEWAY): string => `${address.replace("@", "\\40")}@${gateway}`;
export { DOMAIN };
