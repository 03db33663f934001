// The test transport as a module a config can name (transports.test.module), for tests that run
// the gateway as its own process through the CLI.
import { z } from "zod";
import type { TransportModule } from "../../src/transport/contract.js";
import { createTestTransport } from "../support/test-transport.js";

export const transport: TransportModule<Record<string, unknown>> = {
  name: "test",
  configSchema: z.looseObject({}),
  create: () => createTestTransport(),
};
