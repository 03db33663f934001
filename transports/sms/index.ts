// The SMS/MMS transport module the core loads by name: its config schema, and a factory that puts
// the provider the config chooses behind the transport.
import type { Logger } from "pino";
import type { TransportModule } from "../../src/transport/contract.js";
import { smsConfigSchema, type SmsConfig } from "./config.js";
import type { ProviderFactory } from "./provider.js";
import { telnyxAccounts } from "./providers/telnyx/accounts.js";
import { createTelnyxProvider } from "./providers/telnyx/provider.js";
import { twilioAccounts } from "./providers/twilio/accounts.js";
import { createTwilioProvider } from "./providers/twilio/provider.js";
import { createSmsTransport } from "./transport.js";

export function providerFactory(config: SmsConfig, log: Logger): ProviderFactory {
  if (config.provider === "telnyx") return { accounts: telnyxAccounts, groupTexts: true, create: () => createTelnyxProvider(config, log) };
  return { accounts: twilioAccounts, groupTexts: true, create: (store) => createTwilioProvider(config, log, store) };
}

export const transport: TransportModule<SmsConfig> = {
  name: "sms",
  configSchema: smsConfigSchema,
  create(config: SmsConfig, log: Logger) {
    return createSmsTransport(config, log, providerFactory(config, log));
  },
};

export default transport;
