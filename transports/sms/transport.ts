// The SMS/MMS transport: the pieces of this folder put together behind the core's Transport contract.
import type { Logger } from "pino";
import type { Transport, TransportContext } from "../../src/transport/contract.js";
import { createAccounts, SECRET_FIELDS, secretBinding, type Accounts, type Binding } from "./accounts.js";
import type { SmsConfig } from "./config.js";
import { createDailyCap } from "./daily-cap.js";
import { createInboundHandler, type InboundHandler } from "./inbound.js";
import { createPacer } from "./pacing.js";
import { createPhoneCodec } from "./phone.js";
import type { Params, SmsProvider } from "./provider.js";
import { createSender } from "./send.js";
import { createStatusTracker, type StatusTracker } from "./status.js";
import { createStatusCallbackHandler } from "./status-callback.js";
import { createWebhook } from "./webhook.js";

export function createSmsTransport(config: SmsConfig, log: Logger, provider: SmsProvider): Transport {
  const codec = createPhoneCodec(config.defaultRegion);
  const pacer = createPacer(config.messagesPerSecond);
  let context: TransportContext | null = null;
  let accounts: Accounts | null = null;
  let status: StatusTracker | null = null;
  let inbound: InboundHandler | null = null;
  let send: Transport["send"] | null = null;

  const started = (): { context: TransportContext; accounts: Accounts } => {
    if (!context || !accounts) throw new Error("the SMS transport is not started");
    return { context, accounts };
  };
  const publicBase = (): string => (config.publicUrl ?? started().context.publicUrl).replace(/\/$/, "");
  const paths = (domain: string) => ({ incoming: `/sms/${domain}/incoming`, status: `/sms/${domain}/status` });

  return {
    name: "sms",
    identityType: "sms",
    displayName: "SMS/MMS gateway",
    address: codec,
    secretFields: SECRET_FIELDS,
    secretBinding,

    registrationForm: (user, current) => started().accounts.form(user, current),
    register: (user, fields, previous) => started().accounts.register(user, fields, previous),
    unregister: (user, fields) => started().accounts.unregister(user, fields),
    send(message, fields) {
      if (!send) throw new Error("the SMS transport is not started");
      return send(message, fields);
    },

    async start(ctx) {
      context = ctx;
      const { incoming, status: statusPath } = paths(ctx.domain);
      accounts = createAccounts({
        config,
        provider,
        bindings: ctx.table<Binding>("numbers"),
        registrations: () => ctx.registrations(),
        incomingUrl: () => `${publicBase()}${incoming}`,
        log,
      });
      status = createStatusTracker({
        parts: ctx.table("sent-parts"),
        progress: ctx.table("delivery-progress"),
        pending: ctx.table("status-pending"),
        report: (providerId, delivery) => ctx.reportStatus(providerId, delivery),
        graceMs: config.statusGraceMs,
        log,
      });
      send = createSender({
        provider,
        accounts,
        status,
        pacer,
        cap: createDailyCap(config.dailyTextsPerUser, ctx.table("daily-texts")),
        progress: ctx.table("send-progress"),
        statusUrl: () => `${publicBase()}${statusPath}`,
        accountState: (user, state) => ctx.setAccountState(user, state),
        log,
      });

      const tokenOf = accounts.tokenOf.bind(accounts);
      const incomingHandler = createInboundHandler({
        provider,
        accounts,
        codec,
        media: () => ctx.media,
        deliver: (message) => ctx.deliver(message),
        handled: ctx.table("inbound-handled"),
        pending: ctx.table("inbound-mms"),
        maxMediaBytes: config.maxMediaBytes,
        log,
      });
      const refused = (reason: string): void => ctx.metrics.webhookRejections.inc({ transport: "sms", reason });
      const webhook = (handle: (params: Params) => Promise<void>) => createWebhook({ provider, maxBytes: config.maxWebhookBytes, publicBase, tokenOf, handle, refused, log });
      inbound = incomingHandler;
      ctx.http.add("POST", incoming, webhook((params) => incomingHandler.handle(params)));
      ctx.http.add("POST", statusPath, webhook(createStatusCallbackHandler({ provider, tracker: status, log })));
      const [statuses, mms] = await Promise.all([status.resume(), incomingHandler.resume()]);
      if (statuses + mms > 0) log.info({ statuses, mms }, "finishing work left by the previous run");
      const host = new URL(publicBase()).hostname;
      if (["127.0.0.1", "localhost", "[::1]", "::1"].includes(host)) {
        log.warn({ publicUrl: publicBase() }, "the public URL is a loopback address: Twilio cannot reach the webhooks; set http.publicUrl");
      }
      log.info({ incoming: `${publicBase()}${incoming}`, status: `${publicBase()}${statusPath}`, operatorNumbers: config.operator?.numbers.length ?? 0, ownAccounts: config.ownAccounts }, "SMS webhooks ready");
    },
    async stop() {
      status?.stop();
      inbound?.stop();
      context = null;
    },
  };
}
