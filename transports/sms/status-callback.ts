// A verified delivery status: keep it for the tracker before the provider is answered.
import type { Logger } from "pino";
import { HttpError } from "../../src/transport/index.js";
import type { StatusUpdate } from "./provider.js";
import type { StatusTracker } from "./status.js";

export function createStatusCallbackHandler(options: { tracker: StatusTracker; log: Logger }): (update: StatusUpdate) => Promise<void> {
  const { tracker, log } = options;
  return async (update) => {
    try {
      await tracker.receive(update);
    } catch (error) {
      // Not kept: a failure answer lets the provider's retry bring it again.
      log.error({ err: error, providerId: update.id }, "could not keep a delivery status");
      throw new HttpError(503, "The gateway could not store this status; try again later");
    }
  };
}
