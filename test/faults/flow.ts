// What the fault scenarios share: running many sends at once, and reading what a client got.
import nodemailer from "nodemailer";
import type { TestClient } from "../support/xmpp-client.js";

/** Runs `task(i)` for 0..n-1, `width` at a time. */
export async function pool(n: number, width: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

const chatsFrom = (client: TestClient, from: string) =>
  client.received.filter((stanza) => stanza.name === "message" && stanza.attrs.type !== "error" && stanza.attrs.from === from);

/** Bodies of the chat messages `client` got from `from`, copies included. */
export const bodies = (client: TestClient, from: string): string[] => chatsFrom(client, from).map((stanza) => (stanza.getChildText("body") ?? "").trim());

/** How many of those were copies carrying an id seen before; with `keys`, only among the chats
 *  whose body is one of them (a scenario's own, not an earlier scenario's from the same sender). */
export function sameIdCopies(client: TestClient, from: string, keys?: readonly string[]): number {
  const wanted = keys ? new Set(keys) : undefined;
  const ids = chatsFrom(client, from)
    .filter((stanza) => !wanted || wanted.has((stanza.getChildText("body") ?? "").trim()))
    .map((stanza) => stanza.attrs.id);
  return ids.length - new Set(ids).size;
}

/** The sum of a metric's series on the gateway listening on `port`. */
export async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
}

/** Mail straight into Dovecot's LMTP listener on `port`, as the sender's mail server would deliver it. */
export const lmtpSender = (port: number) =>
  nodemailer.createTransport({ host: "127.0.0.1", port, lmtp: true, secure: false, ignoreTLS: true, pool: true, maxConnections: 2 });
