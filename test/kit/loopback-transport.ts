// A minimal transport, written as a model (docs/transports.md walks through it): it bridges to the
// loopback network of test/kit/loopback-network.ts, where every address answers what it receives.
// It shows each part of a transport: config, address codec, capabilities, registration, sending,
// a signed webhook for messages in and delivery reports, per-user state in a table, preferences.
// It imports from src/transport/ only (and packages), as every transport must.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import {
  gatewayError,
  HttpError,
  type BareJid,
  type Fields,
  type SendResult,
  type Table,
  type Transport,
  type TransportContext,
  type TransportModule,
} from "../../src/transport/index.js";

/** The transport's own config section (besides domain, secret and module, which the core reads). */
const configSchema = z.object({
  /** The network's base URL. */
  network: z.url(),
  /** The operator's token: it sets the webhook and signs what the network posts. */
  token: z.string().min(8),
});
type LoopbackConfig = z.infer<typeof configSchema>;

/** What the network posts to the webhook. Anything else is refused. */
const eventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("message"), id: z.string(), from: z.string(), to: z.string(), body: z.string().max(10_000), sentAt: z.iso.datetime() }),
  z.object({ type: z.literal("status"), id: z.string(), state: z.enum(["delivered", "failed"]), reason: z.string().optional() }),
]);

const ADDRESS = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function createLoopbackTransport(config: LoopbackConfig): Transport {
  let context: TransportContext | undefined;
  // The one piece of per-user state: which Jabber user holds which network account.
  let accounts: Table<BareJid> | undefined;
  const started = (): { ctx: TransportContext; accounts: Table<BareJid> } => {
    if (!context || !accounts) throw new Error("the loopback transport is not started");
    return { ctx: context, accounts };
  };

  /** One call to the network's API; a network failure is thrown as it is (the callers decide). */
  async function call(method: string, path: string, body: unknown, token?: string): Promise<Response> {
    return fetch(new URL(path, config.network), {
      method,
      headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000), // never block: a slow network is a temporary failure
    });
  }

  async function readSigned(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 64 * 1024) throw new HttpError(413, "too large");
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    const expected = createHmac("sha256", config.token).update(body).digest();
    const given = Buffer.from(String(req.headers["x-loopback-signature"] ?? ""), "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HttpError(403, "bad signature");
    try {
      return JSON.parse(body.toString("utf8"));
    } catch {
      throw new HttpError(400, "not JSON");
    }
  }

  const transport: Transport = {
    name: "loopback",
    identityType: "loopback",
    displayName: "Loopback network",
    address: {
      prompt: "Loopback address",
      description: "Enter the loopback address of the person you want to add (letters, digits, dots, dashes).",
      parse(text) {
        const address = text.trim().toLowerCase();
        if (!ADDRESS.test(address)) throw gatewayError("jid-malformed", `"${text.trim()}" is not a loopback address: use letters, digits, dots and dashes.`);
        return address;
      },
      // vcard-temp has no field for a toy network; X- elements are its way to add one.
      vcard: (address) => ({ element: "X-LOOPBACK", children: [["ADDRESS", address]] }),
    },
    capabilities: { receipts: true, subject: false, threads: false, corrections: "new-message", reactions: "none", maxBodyChars: 10_000 },
    preferences: [
      {
        var: "from",
        label: "Whose messages to forward",
        options: [
          { value: "everyone", label: "everyone" },
          { value: "known", label: "only addresses I have written to" },
        ],
      },
    ],
    async filterIncoming({ preferences, wroteTo }) {
      if (preferences.from === "known" && !(await wroteTo())) return "the user forwards only messages from addresses they have written to";
      return undefined;
    },
    secretFields: ["password"],
    // A password belongs to its account: changing the account asks for the password again.
    secretBinding: (field) => (field === "password" ? ["account"] : []),

    registrationForm: (_user, current) => ({
      title: "Loopback network",
      instructions: "Enter your loopback account and its password.",
      fields: [
        { var: "account", label: "Account", type: "text-single", required: true, value: current?.account ?? "" },
        { var: "password", label: "Password", type: "text-private", required: true },
      ],
    }),

    async register(user, fields, previous) {
      const { accounts } = started();
      const account = transport.address.parse(fields.account ?? "");
      const login = await call("POST", "/login", { account, password: fields.password }).catch(() => undefined);
      if (!login) throw gatewayError("remote-server-timeout", "The loopback network did not answer; try again later.");
      if (login.status === 401) throw gatewayError("not-authorized", `The loopback network refused the password for ${account}.`);
      if (!login.ok) throw gatewayError("remote-server-not-found", `The loopback network answered ${login.status}; try again later.`);
      const holder = await accounts.get(account);
      if (holder && holder !== user) throw gatewayError("conflict", `Another Jabber user has registered the loopback account ${account}.`);
      if (previous?.account && previous.account !== account) await accounts.delete(previous.account);
      await accounts.set(account, user);
      return { account, password: fields.password ?? "" };
    },

    async unregister(_user, fields) {
      if (fields.account) await started().accounts.delete(fields.account);
    },

    async send(message, account: Fields): Promise<SendResult> {
      const { ctx } = started();
      const response = await call("POST", "/messages", { account: account.account, password: account.password, to: message.peer, body: message.body }).catch(
        () => undefined,
      );
      // accepted: the network has it. temporary: the outbox tries again later, across restarts.
      // permanent: the sender gets an error message with this reason, and it is never retried.
      if (!response) return { kind: "temporary", reason: "The loopback network did not answer." };
      if (response.status === 401) {
        const reason = "The loopback network refused your password; register again with the right one.";
        ctx.setAccountState(message.user, { ok: false, reason });
        return { kind: "permanent", reason };
      }
      if (response.status === 404) return { kind: "permanent", reason: `There is nobody at ${message.peer} on the loopback network.` };
      if (!response.ok) return { kind: "temporary", reason: `The loopback network answered ${response.status}.` };
      ctx.setAccountState(message.user, { ok: true });
      return { kind: "accepted", providerId: ((await response.json()) as { id: string }).id };
    },

    async start(ctx) {
      context = ctx;
      accounts = ctx.table<BareJid>("accounts");
      const path = `/loopback/${ctx.domain}/events`;
      ctx.http.add(
        "POST",
        path,
        async (req, res) => {
          const parsed = eventSchema.safeParse(await readSigned(req));
          if (!parsed.success) throw new HttpError(400, "not a loopback event");
          const event = parsed.data;
          if (event.type === "status") {
            await ctx.reportStatus(
              event.id,
              event.state === "delivered" ? { state: "delivered" } : { state: "failed", reason: event.reason ?? "not delivered" },
            );
          } else {
            const user = await accounts!.get(event.to);
            if (user) {
              // Resolves once the message is stored: only then may the network forget it (200).
              const delivery = await ctx.deliver({
                user,
                peer: transport.address.parse(event.from),
                body: event.body,
                sourceId: event.id,
                sentAt: new Date(event.sentAt),
              });
              if (delivery.filtered) ctx.log.debug({ id: event.id, why: delivery.filtered }, "a message the user's preferences keep out");
            } else ctx.log.info({ to: event.to }, "a message for an account nobody registered");
          }
          res.writeHead(200).end();
        },
        // A standby instance (shared PostgreSQL) keeps the event for this one and answers 200.
        { relay: { status: 200 } },
      );
      // The operator's one webhook: set at each start, since the gateway's URL may have changed.
      const set = await call("PUT", "/webhook", { url: `${ctx.publicUrl}${path}` }, config.token).catch((error: unknown) => error);
      if (!(set instanceof Response) || !set.ok)
        ctx.log.warn({ status: set instanceof Response ? set.status : String(set) }, "could not set the loopback webhook");
    },

    async stop() {
      context = undefined;
    },
  };
  return transport;
}

export const transport: TransportModule<LoopbackConfig> = {
  name: "loopback",
  configSchema,
  create: (config) => createLoopbackTransport(config),
};

export default transport;
