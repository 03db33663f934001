// The transport test kit: the behaviour every transport owes its users, as node:test cases that
// run against any transport through the real gateway, a real Prosody and a real Jabber client.
// A transport's author describes their network in a KitDriver (how to start it with the gateway,
// how to put a message on it, how to see what reached it) and calls transportKit(driver) in a
// *.test.ts file; test/kit/*.test.ts do so for the loopback, e-mail and SMS transports.
// (In the spirit of Slidge's test helpers: one set of behaviours, many networks.)
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Harness } from "../support/harness.js";
import { registrationForm } from "../support/register.js";
import { errorCondition, xml, type Element, type TestClient } from "../support/xmpp-client.js";
import { escapeLocal } from "../../src/xmpp/jid.js";
import type { Transport } from "../../src/transport/index.js";

/** A message as it reached the network. */
export interface Carried {
  /** The network's id for it (what the transport's send returned as providerId). */
  id: string;
  body: string;
}

/** A running world: the network, the gateway with the transport, a Prosody with users juliet and romeo. */
export interface KitWorld {
  h: Harness;
  /** The transport's component domain. */
  domain: string;
  /** XEP-0077 form values that register the Jabber user `user` ("juliet" or "romeo") on the network. */
  account(user: "juliet" | "romeo"): Record<string, string>;
  /** Form values the transport must refuse (a wrong password, a number that is not ours). */
  wrongAccount(user: "juliet" | "romeo"): Record<string, string>;
  /** The n-th address of someone on the network, in the transport's canonical form. */
  peer(n: number): string;
  /** What reached `peer` on the network so far, in order. */
  carried(peer: string): Promise<Carried[]>;
  /** `peer` writes `body` to `user`'s account. Resolves once the network holds the message: it
   *  reaches the gateway when the gateway can take it (it may be stopped). */
  send(peer: string, user: "juliet" | "romeo", body: string): Promise<void>;
  /** The network reports a message it carried as delivered (only for drivers with receipts). */
  reportDelivered?(message: Carried): Promise<void>;
  /** Called after the gateway restarted (its HTTP port changed): aim the network at it again. */
  restarted?(): Promise<void>;
  stop(): Promise<void>;
}

export interface KitDriver {
  /** Names the suite: "loopback", "e-mail", "SMS through Twilio"... */
  name: string;
  /** Whether the transport declares receipts (the kit checks that it does as the driver says). */
  receipts: boolean;
  start(): Promise<KitWorld>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns something, or fails saying what it waited for. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(50);
  }
}

/** Declares the kit's tests for one transport. */
export function transportKit(driver: KitDriver): void {
  describe(`transport kit: ${driver.name}`, () => {
    let w: KitWorld;
    let juliet: TestClient;
    let serial = 0;
    const unique = (what: string) => `${what} ${++serial}-${Math.random().toString(36).slice(2, 8)}`;

    const jidOf = (peer: string) => `${escapeLocal(peer)}@${w.domain}`;
    const transport = (): Transport => w.h.gateway.services.find((service) => service.domain === w.domain)!.transport;
    const chat = (peer: string, body: string, id: string, ...children: Element[]) =>
      xml("message", { to: jidOf(peer), type: "chat", id }, xml("body", {}, body), ...children);
    const chatFrom = (peer: string, body: string) => (stanza: Element) =>
      stanza.name === "message" && stanza.attrs.type !== "error" && stanza.attrs.from === jidOf(peer) && stanza.getChildText("body") === body;
    const submit = (client: TestClient, values: Record<string, string>) =>
      client.iq(xml("iq", { type: "set", to: w.domain }, xml("query", { xmlns: "jabber:iq:register" }, registrationForm(values))), 15_000);
    const registration = async (client: TestClient) =>
      (await client.iq(xml("iq", { type: "get", to: w.domain }, xml("query", { xmlns: "jabber:iq:register" })))).getChild("query")!;
    const reached = (peer: string, body: string) =>
      eventually(`"${body}" to reach ${peer} on the network`, async () => (await w.carried(peer)).find((message) => message.body === body));

    /** Registers `user` and accepts the transport's subscription request, as a client's user would. */
    async function join(client: TestClient, user: "juliet" | "romeo"): Promise<void> {
      const reply = await submit(client, w.account(user));
      assert.equal(reply.attrs.type, "result", reply.toString());
      await client.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === w.domain, 10_000);
      await client.send(xml("presence", { to: w.domain, type: "subscribed" }));
    }

    /** Stops the gateway, runs `meanwhile`, starts it again. */
    async function restart(meanwhile: () => Promise<void> = async () => undefined): Promise<void> {
      await w.h.stopGateway();
      await meanwhile();
      await w.h.startGateway();
      await w.restarted?.();
    }

    before(async () => {
      w = await driver.start();
      juliet = await w.h.login("juliet");
    });
    after(async () => {
      await w?.stop();
    });

    test("disco#info names a gateway of the transport's kind, and promises receipts only if the transport declares them", async () => {
      assert.equal(transport().capabilities.receipts, driver.receipts, "the transport declares receipts as the driver says");
      const info = (await juliet.iq(xml("iq", { type: "get", to: w.domain }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })))).getChild(
        "query",
      )!;
      const identity = info.getChild("identity")!;
      assert.equal(identity.attrs.category, "gateway");
      assert.equal(identity.attrs.type, transport().identityType);
      const features = info.getChildren("feature").map((feature) => feature.attrs.var);
      assert.ok(features.includes("jabber:iq:register"));
      assert.equal(features.includes("urn:xmpp:receipts"), driver.receipts);
    });

    test("registration goes through the XEP-0077 form: the transport's fields, a refusal in words, then the roster request", async () => {
      const query = await registration(juliet);
      assert.equal(query.getChild("registered"), undefined);
      const form = query.getChild("x", "jabber:x:data")!;
      const vars = form.getChildren("field").map((field) => field.attrs.var);
      for (const name of Object.keys(w.account("juliet"))) assert.ok(vars.includes(name), `the form asks for ${name}`);
      for (const field of (await transport().registrationForm(juliet.jid as never)).fields)
        assert.ok(vars.includes(field.var), `the form shows the transport's field ${field.var}`);

      const refused = await submit(juliet, w.wrongAccount("juliet"));
      assert.equal(refused.attrs.type, "error");
      assert.ok(
        (refused.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas") ?? "").length > 10,
        "the refusal says why in a sentence",
      );
      assert.equal((await registration(juliet)).getChild("registered"), undefined);

      await join(juliet, "juliet");
      assert.ok((await registration(juliet)).getChild("registered"));
    });

    test("a chat message to a contact's JID reaches the network", async () => {
      const body = unique("Hello");
      await juliet.send(chat(w.peer(1), body, "kit-out"));
      await reached(w.peer(1), body);
    });

    test("a message on the network reaches the Jabber client as a chat from the peer's JID", async () => {
      const body = unique("Hi Juliet");
      await w.send(w.peer(2), "juliet", body);
      const message = await juliet.waitFor(chatFrom(w.peer(2), body), 15_000);
      assert.equal(message.attrs.type, "chat");
      assert.equal(message.attrs.to?.split("/")[0], juliet.jid);
    });

    test("a contact's vCard carries its address", async () => {
      const card = await juliet.iq(xml("iq", { type: "get", to: jidOf(w.peer(2)) }, xml("vCard", { xmlns: "vcard-temp" })));
      assert.equal(card.attrs.type, "result");
      assert.ok(card.getChild("vCard")!.toString().includes(w.peer(2)), card.toString());
    });

    if (driver.receipts) {
      test("a message the network reports delivered comes back as a XEP-0184 receipt from the contact", async () => {
        const body = unique("Tell me it arrived");
        await juliet.send(chat(w.peer(3), body, "kit-receipt", xml("request", { xmlns: "urn:xmpp:receipts" })));
        await w.reportDelivered!(await reached(w.peer(3), body));
        const receipt = await juliet.waitFor((stanza) => stanza.getChild("received", "urn:xmpp:receipts")?.attrs.id === "kit-receipt", 10_000);
        assert.equal(receipt.attrs.from, jidOf(w.peer(3)));
      });
    } else {
      test("a receipt request gets no receipt: the network reports no delivery", async () => {
        const body = unique("No receipt");
        await juliet.send(chat(w.peer(3), body, "kit-no-receipt", xml("request", { xmlns: "urn:xmpp:receipts" })));
        await reached(w.peer(3), body);
        await pause(1_000);
        assert.equal(juliet.received.filter((stanza) => stanza.getChild("received", "urn:xmpp:receipts")?.attrs.id === "kit-no-receipt").length, 0);
      });
    }

    test("a message the network takes in while the gateway is stopped arrives once it is back, exactly once", async () => {
      const body = unique("While you were away");
      await restart(() => w.send(w.peer(4), "juliet", body));
      await juliet.waitFor(chatFrom(w.peer(4), body), 20_000);
      await pause(1_000);
      assert.equal(juliet.received.filter(chatFrom(w.peer(4), body)).length, 0, "it arrived twice");
    });

    test("a message sent just before the gateway stops reaches the network after the restart, exactly once", async () => {
      const body = unique("Just before the stop");
      await juliet.send(chat(w.peer(5), body, "kit-before-stop"));
      // An iq round trip on the same stream: the gateway has read the message when the answer comes.
      await juliet.iq(xml("iq", { type: "get", to: w.domain }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
      await restart();
      await reached(w.peer(5), body);
      await pause(1_000);
      assert.equal((await w.carried(w.peer(5))).filter((message) => message.body === body).length, 1);
      assert.equal(juliet.received.filter((stanza) => stanza.attrs.type === "error" && stanza.attrs.id === "kit-before-stop").length, 0, "no error came back");
    });

    test("unregistering removes the user: no registration, no sending, nothing from the network any more", async () => {
      const romeo = await w.h.login("romeo");
      try {
        await join(romeo, "romeo");
        const body = unique("Before leaving");
        await w.send(w.peer(6), "romeo", body);
        await romeo.waitFor(chatFrom(w.peer(6), body), 15_000);

        const removed = await romeo.iq(xml("iq", { type: "set", to: w.domain }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))), 15_000);
        assert.equal(removed.attrs.type, "result");
        assert.equal((await registration(romeo)).getChild("registered"), undefined);
        // The transport leaves the roster: the server pushes the cancelled subscription.
        await romeo.waitFor((stanza) => stanza.name === "iq" && stanza.getChild("query", "jabber:iq:roster")?.getChild("item")?.attrs.jid === w.domain, 10_000);

        await romeo.send(chat(w.peer(6), "After leaving", "kit-after"));
        const refusal = await romeo.waitFor((stanza) => stanza.name === "message" && stanza.attrs.type === "error" && stanza.attrs.id === "kit-after");
        assert.equal(errorCondition(refusal), "registration-required");

        // The transport forgot the account: what the network carries for it reaches nobody.
        const later = unique("After you left");
        await w.send(w.peer(6), "romeo", later);
        await pause(2_000);
        assert.equal(romeo.received.filter(chatFrom(w.peer(6), later)).length, 0);
        assert.equal((await w.carried(w.peer(6))).filter((message) => message.body === "After leaving").length, 0);
      } finally {
        await romeo.stop();
      }
    });
  });
}
