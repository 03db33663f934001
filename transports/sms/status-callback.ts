// A verified status callback: read it, and keep it for the tracker before Twilio is answered.
import type { Logger } from "pino";
import { HttpError } from "../../src/http/router.js";
import type { Params, SmsProvider } from "./provider.js";
import type { StatusTracker } from "./status.js";

export function createStatusCallbackHandler(options: { provider: SmsProvider; tracker: StatusTracker; log: Logger }): (params: Params) => Promise<void> {
  const { provider, tracker, log } = options;
  return async (params) => {
    let update;
    try {
      update = provider.readStatus(params);
    } catch (error) {
      throw new HttpError(400, `Malformed status callback: ${(error as Error).message}`);
    }
    try {
      await tracker.receive(update);
    } catch (error) {
      // Not kept: a failure answer lets Twilio's retry (where configured) bring it again.
      log.error({ err: error, providerId: update.id }, "could not keep a delivery status");
      throw new HttpError(503, "The gateway could not store this status; try again later");
    }
  };
}
