// The SMS/MMS transport: the pieces of this folder put together behind the core's Transport contract.
import type { Logger } from "pino";
import type { Transport, TransportContext } from "../../src/transport/contract.js";
import { createAccounts, type Accounts, type Binding } from "./accounts.js";
import type { SmsConfig } from "./config.js";
import { createDailyCap } from "./daily-cap.js";
import { groupKeyOf } from "./group-in.js";
import { createInboundHandler, type InboundHandler } from "./inbound.js";
import { createPacer } from "./pacing.js";
import { createPhoneCodec } from "./phone.js";
import type { ProviderAccount, ProviderFactory, WebhookEvent } from "./provider.js";
import { createSender } from "./send.js";
import { createGroupSender } from "./send-group.js";
import { createStatusTracker, type StatusTracker } from "./status.js";
import { createStatusCallbackHandler } from "./status-callback.js";
import { createWebhook } from "./webhook.js";

export function createSmsTransport(config: SmsConfig, log: Logger, providers: ProviderFactory): Transport {
  const codec = createPhoneCodec(config.defaultRegion);
  const pacer = createPacer(config.messagesPerSecond);
  let context: TransportContext | null = null;
  let accounts: Accounts | null = null;
  let status: StatusTracker | null = null;
  let inbound: InboundHandler | null = null;
  let send: Transport["send"] | null = null;
  let sendGroup: ReturnType<typeof createGroupSender> | null = null;

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
    capabilities: {
      receipts: true,
      attachments: { maxBytes: config.maxMediaBytes },
      subject: false,
      threads: false,
      // A text cannot be changed or taken back once sent: corrections, reactions and deletions go as
      // short texts of their own, and phones' reaction texts come back as reactions.
      corrections: "new-message",
      reactions: "text",
      retractions: "note",
      reactionTexts: true,
      // Group texts become group chats only with a provider that can answer them as one group MMS.
      groups: providers.groupTexts,
      ...(config.dailyTextsPerUser !== undefined && { messagesPerUserPerDay: config.dailyTextsPerUser }),
    },
    secretFields: providers.accounts.secretFields,
    secretBinding: (secretField) => providers.accounts.secretBinding(secretField),

    registrationForm: (user, current) => started().accounts.form(user, current),
    register: (user, fields, previous) => started().accounts.register(user, fields, previous),
    async unregister(user, fields) {
      await started().accounts.unregister(user, fields);
      // Which room a group's answers go to is keyed by the user's number with the others': it goes too.
      const number = fields.mode === "own" ? fields.ownNumber : fields.number;
      if (number && context) await context.table<string>("group-keys").deletePrefix(`${groupKeyOf(number, [])},`);
    },
    send(message, fields) {
      if (!send || !sendGroup) throw new Error("the SMS transport is not started");
      const { group } = message;
      return group ? sendGroup({ ...message, group }, fields) : send(message, fields);
    },

    async start(ctx) {
      context = ctx;
      const provider = providers.create({ table: (name) => ctx.table(name) });
      if (providers.groupTexts !== (provider.sendGroup !== undefined)) throw new Error(`${provider.displayName}: group texts offered and sendGroup disagree`);
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
        provider,
        graceMs: config.statusGraceMs,
        log,
      });
      const groupKeys = ctx.table<string>("group-keys");
      const cap = createDailyCap(config.dailyTextsPerUser, ctx.table("daily-texts"));
      send = createSender({
        provider,
        accounts,
        status,
        pacer,
        cap,
        progress: ctx.table("send-progress"),
        statusUrl: () => `${publicBase()}${statusPath}`,
        accountState: (user, state) => ctx.setAccountState(user, state),
        log,
      });
      sendGroup = createGroupSender({ provider, accounts, codec, send, groupKeys, log });

      const accountsNow = accounts;
      const incomingHandler = createInboundHandler({
        provider,
        accounts,
        codec,
        media: () => ctx.media,
        deliver: (message) => ctx.deliver(message),
        handled: ctx.table("inbound-handled"),
        pending: ctx.table("inbound-mms"),
        groupKeys,
        maxMediaBytes: config.maxMediaBytes,
        log,
      });
      const statusHandler = createStatusCallbackHandler({ tracker: status, log });
      // Whichever URL an event reached, it goes where its kind says (Telnyx posts status events to a
      // messaging profile's URL too, when a text was sent without its own).
      const handle = async (event: WebhookEvent, account: ProviderAccount): Promise<void> => {
        if (event.kind === "incoming") return incomingHandler.handle({ ...event.text, accountId: account.id });
        if (event.kind === "status") return statusHandler(event.update);
        log.debug({ type: event.type }, "ignored a webhook event the gateway has no use for");
      };
      const refused = (reason: string): void => ctx.metrics.webhookRejections.inc({ transport: "sms", reason });
      const webhook = (endpoint: "incoming" | "status") =>
        createWebhook({
          provider,
          endpoint,
          maxBytes: config.maxWebhookBytes,
          publicBase,
          accountFor: (claim) => accountsNow.accountFor(claim),
          handle,
          refused,
          log,
        });
      inbound = incomingHandler;
      // A standby instance keeps these for this one and answers the provider as this one would.
      const relay = { relay: { status: 200, ...provider.webhookAnswer } };
      ctx.http.add("POST", incoming, webhook("incoming"), relay);
      ctx.http.add("POST", statusPath, webhook("status"), relay);
      const [statuses, mms] = await Promise.all([status.resume(), incomingHandler.resume()]);
      if (statuses + mms > 0) log.info({ statuses, mms }, "finishing work left by the previous run");
      const host = new URL(publicBase()).hostname;
      if (["127.0.0.1", "localhost", "[::1]", "::1"].includes(host)) {
        log.warn({ publicUrl: publicBase() }, `the public URL is a loopback address: ${provider.displayName} cannot reach the webhooks; set http.publicUrl`);
      }
      log.info(
        {
          incoming: `${publicBase()}${incoming}`,
          status: `${publicBase()}${statusPath}`,
          operatorNumbers: config.operator?.numbers.length ?? 0,
          ownAccounts: config.ownAccounts,
          provider: provider.name,
        },
        "SMS webhooks ready",
      );
    },
    async stop() {
      status?.stop();
      inbound?.stop();
      context = null;
    },
  };
}
