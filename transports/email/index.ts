// The e-mail transport as the core loads it: transports/email/index.js.
import type { TransportModule } from "../../src/transport/contract.js";
import { emailConfigSchema, type EmailConfig } from "./config.js";
import { createEmailTransport } from "./transport.js";

export const transport: TransportModule<EmailConfig> = {
  name: "email",
  configSchema: emailConfigSchema,
  create: (config, log) => createEmailTransport(config, log),
};

export default transport;
