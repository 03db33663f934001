// The SMS/MMS transport module the core loads by name: its config schema, and a factory that puts
// the provider the config chooses behind the transport.
import type { Logger } from "pino";
import type { TransportModule } from "../../src/transport/contract.js";
import { smsConfigSchema, type SmsConfig } from "./config.js";
import type { SmsProvider } from "./provider.js";
import { createTelnyxProvider } from "./providers/telnyx/provider.js";
import { createTwilioProvider } from "./providers/twilio/provider.js";
import { createSmsTransport } from "./transport.js";

export function createProvider(config: SmsConfig, log: Logger): SmsProvider {
  return config.provider === "telnyx" ? createTelnyxProvider(config, log) : createTwilioProvider(config, log);
}

export const transport: TransportModule<SmsConfig> = {
  name: "sms",
  configSchema: smsConfigSchema,
  create(config: SmsConfig, log: Logger) {
    return createSmsTransport(config, log, createProvider(config, log));
  },
};

export default transport;
