// The HTTP side of webhooks: size and type limits, and the provider's signature check against the
// account the request claims (on the public URL the provider posted to). What a verified webhook
// means is the handler's business.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { GatewayError, HttpError, readBoundedBody, type HttpHandler } from "../../src/transport/index.js";
import { ProviderError, type ProviderAccount, type SmsProvider, type WebhookClaim, type WebhookEvent, type WebhookRequest } from "./provider.js";

export interface WebhookOptions {
  provider: SmsProvider;
  /** Which of the transport's URLs this is; a provider that does not say what an event is by
   *  itself (Twilio) reads it by the URL it was posted to. */
  endpoint: "incoming" | "status";
  maxBytes: number;
  /** The base URL the provider was told to post to (the gateway's public URL, maybe behind a proxy). */
  publicBase: () => string;
  accountFor(claim: WebhookClaim): Promise<ProviderAccount | undefined>;
  /** Runs after the signature is verified; must keep what it needs before resolving. */
  handle(event: WebhookEvent, account: ProviderAccount): Promise<void>;
  /** Counts a refused request by reason (metrics). */
  refused(reason: "signature" | "size" | "content-type" | "malformed" | "unavailable"): void;
  log: Logger;
}

export function createWebhook(options: WebhookOptions): HttpHandler {
  const { provider, log } = options;
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      await handle(req, res).catch((error: unknown) => {
        // A store that cannot keep anything: tell the provider to come back rather than fail obscurely.
        if (error instanceof GatewayError && error.code === "store-unavailable")
          throw new HttpError(503, "The gateway cannot store anything right now; try again later");
        throw error;
      });
    } catch (error) {
      if (error instanceof HttpError)
        options.refused(
          error.status === 403
            ? "signature"
            : error.status === 413
              ? "size"
              : error.status === 415
                ? "content-type"
                : error.status === 400
                  ? "malformed"
                  : "unavailable",
        );
      throw error;
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== provider.webhookContentType) throw new HttpError(415, `Expected a ${provider.webhookContentType} body`);
    const body = (await readBoundedBody(req, options.maxBytes, "Webhook bodies")).toString("utf8");
    // The URL the provider signed (Twilio) is the public one; req.url is what the proxy passed on.
    const request: WebhookRequest = { url: `${options.publicBase()}${req.url ?? ""}`, headers: req.headers, body };

    const claim = provider.claim(request);
    const account = await options.accountFor(claim);
    if (!account || !(await provider.verify(request, account))) {
      log.warn({ url: request.url, ...claim, known: account !== undefined }, "refused a webhook whose signature does not check out");
      throw new HttpError(403, `Invalid or missing ${provider.displayName} webhook signature`);
    }
    let event: WebhookEvent;
    try {
      event = await provider.read(request, options.endpoint, account);
    } catch (error) {
      // The provider's API could not be asked what the event means: let the provider post it again.
      if (error instanceof ProviderError && error.options.temporary)
        throw new HttpError(503, `${provider.displayName} could not be asked about this webhook; try again later`);
      throw new HttpError(400, `Malformed webhook: ${(error as Error).message}`);
    }
    await options.handle(event, account);
    res.writeHead(200, { "content-type": provider.webhookAnswer.contentType });
    res.end(provider.webhookAnswer.body);
  }
}
