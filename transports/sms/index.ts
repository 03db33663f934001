// The SMS/MMS transport module the core loads by name: its config schema and a factory.
import type { Logger } from "pino";
import type { TransportModule } from "../../src/transport/contract.js";
import { smsConfigSchema, type SmsConfig } from "./config.js";
import { createSmsTransport } from "./transport.js";
import { createTwilioProvider } from "./twilio.js";

export const transport: TransportModule<SmsConfig> = {
  name: "sms",
  configSchema: smsConfigSchema,
  create(config: SmsConfig, log: Logger) {
    return createSmsTransport(config, log, createTwilioProvider({ apiBaseUrl: config.apiBaseUrl, log }));
  },
};

export default transport;
