// A transport for testing the core without e-mail or SMS: addresses look like e-mail addresses,
// sends are recorded, and tests inject inbound messages and choose what each send returns.
import { EventEmitter } from "node:events";
import { gatewayError } from "../../src/errors.js";
import type {
  Fields,
  InboundMessage,
  OutboundMessage,
  RegistrationForm,
  SendResult,
  Transport,
  TransportContext,
  Delivery,
} from "../../src/transport/contract.js";
import type { BareJid } from "../../src/xmpp/jid.js";

export interface TestTransport extends Transport {
  sent: Array<{ message: OutboundMessage; account: Fields }>;
  registered: Map<string, Fields>;
  unregistered: string[];
  events: EventEmitter;
  /** Results for the next sends, in order; afterwards every send is accepted. */
  script: SendResult[];
  inject(message: Omit<InboundMessage, "user"> & { user: string }): Promise<Delivery>;
  context(): TransportContext;
  waitForSent(count: number, timeoutMs?: number): Promise<void>;
}

export function createTestTransport(): TestTransport {
  let context: TransportContext | null = null;
  const events = new EventEmitter();
  let sendCount = 0;
  const transport: TestTransport = {
    name: "test",
    identityType: "smtp",
    displayName: "Test gateway",
    secretFields: ["password"],
    // Like e-mail's: a sender policy the core keeps for the user and the transport applies.
    preferences: [
      {
        var: "spam",
        label: "Which messages to forward",
        options: [
          { value: "all", label: "everything not marked as spam" },
          { value: "known", label: "only from addresses I have written to" },
        ],
      },
    ],
    async filterIncoming({ preferences, wroteTo }) {
      return preferences.spam === "known" && !(await wroteTo()) ? "the user forwards only messages from addresses they have written to" : undefined;
    },
    capabilities: { receipts: true, attachments: { maxBytes: 10 * 1024 * 1024 }, subject: true, threads: true, corrections: "none", reactions: "none" },
    address: {
      prompt: "E-mail address",
      description: "Enter the e-mail address of the person you want to add.",
      parse(text) {
        const trimmed = text.trim();
        // user%domain is the pre-XEP-0106 way to put an address in a local part.
        const address = trimmed.includes("@") ? trimmed : trimmed.replace(/%(?=[^%]*$)/, "@");
        const match = /^([^@\s]+)@([a-z0-9.-]+\.[a-z]{2,})$/i.exec(address);
        if (!match) throw gatewayError("jid-malformed", `"${trimmed}" is not an e-mail address (expected name@domain).`);
        // JID local parts are case-insensitive, so the canonical address is lower-case.
        return `${match[1]!.toLowerCase()}@${match[2]!.toLowerCase()}`;
      },
    },
    sent: [],
    registered: new Map(),
    unregistered: [],
    events,
    script: [],
    registrationForm(_user: BareJid, current?: Fields): RegistrationForm {
      return {
        title: "Test gateway registration",
        instructions: "Enter your test account.",
        fields: [
          { var: "address", label: "Address", type: "text-single", required: true, value: current?.address ?? "" },
          { var: "password", label: "Password", type: "text-private", required: true },
          {
            var: "color",
            label: "Colour",
            type: "list-single",
            options: [
              { label: "Red", value: "red" },
              { label: "Blue", value: "blue" },
            ],
            value: current?.color ?? "red",
          },
        ],
      };
    },
    async start(ctx) {
      context = ctx;
    },
    async stop() {
      context = null;
    },
    async register(user, fields) {
      if (fields.password === "wrong") throw gatewayError("not-authorized", "The test server refused the login for this address: wrong password.");
      transport.registered.set(user, fields);
      return fields;
    },
    async unregister(user) {
      transport.registered.delete(user);
      transport.unregistered.push(user);
    },
    async send(message, account) {
      const result = transport.script.shift() ?? { kind: "accepted", providerId: `test-${++sendCount}` };
      if (result.kind === "accepted") {
        transport.sent.push({ message, account });
        events.emit("sent", message);
      } else {
        events.emit("refused", message, result);
      }
      return result;
    },
    async inject(message) {
      if (!context) throw new Error("the test transport is not started");
      return context.deliver({ ...message, user: message.user as BareJid });
    },
    context() {
      if (!context) throw new Error("the test transport is not started");
      return context;
    },
    async waitForSent(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (transport.sent.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} sent messages, have ${transport.sent.length}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
  return transport;
}
