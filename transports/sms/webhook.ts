// The HTTP side of webhooks: size and type limits, form parsing, and the signature check on the
// public URL Twilio posted to. What a verified webhook means is the handler's business.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { GatewayError } from "../../src/errors.js";
import { HttpError, type HttpHandler } from "../../src/http/router.js";
import type { Params, SmsProvider } from "./provider.js";

export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

export interface WebhookOptions {
  provider: SmsProvider;
  maxBytes: number;
  /** The base URL Twilio was told to post to (the gateway's public URL, maybe behind a proxy). */
  publicBase: () => string;
  tokenOf(accountSid: string): Promise<string | undefined>;
  /** Runs after the signature is verified; must keep what it needs before resolving. */
  handle(params: Params): Promise<void>;
  /** Counts a refused request by reason (metrics). */
  refused(reason: "signature" | "size" | "content-type" | "malformed" | "unavailable"): void;
  log: Logger;
}

export function createWebhook(options: WebhookOptions): HttpHandler {
  const { provider, log } = options;
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      await handle(req, res).catch((error: unknown) => {
        // A store that cannot keep anything: tell Twilio to come back rather than fail obscurely.
        if (error instanceof GatewayError && error.code === "store-unavailable") throw new HttpError(503, "The gateway cannot store anything right now; try again later");
        throw error;
      });
    } catch (error) {
      if (error instanceof HttpError) options.refused(error.status === 403 ? "signature" : error.status === 413 ? "size" : error.status === 415 ? "content-type" : error.status === 400 ? "malformed" : "unavailable");
      throw error;
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded") throw new HttpError(415, "Expected a form-encoded body (application/x-www-form-urlencoded)");
    const body = await readBody(req, options.maxBytes);
    const params = parseForm(body);

    const signature = req.headers[provider.signatureHeader];
    const accountSid = typeof params.AccountSid === "string" ? params.AccountSid : "";
    const token = accountSid ? await options.tokenOf(accountSid) : undefined;
    // The URL Twilio signed is the public one; req.url is what the proxy passed on (path and query).
    const url = `${options.publicBase()}${req.url ?? ""}`;
    if (typeof signature !== "string" || !token || !provider.checkSignature(token, signature, url, params)) {
      log.warn({ url, accountSid: accountSid || undefined, signed: typeof signature === "string" }, "refused a webhook whose signature does not check out");
      throw new HttpError(403, "Invalid or missing X-Twilio-Signature");
    }
    await options.handle(params);
    res.writeHead(200, { "content-type": "text/xml; charset=utf-8" });
    res.end(EMPTY_TWIML);
  }
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) {
    req.resume();
    return Promise.reject(new HttpError(413, `Webhook bodies are limited to ${maxBytes} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners("data");
        req.resume();
        reject(new HttpError(413, `Webhook bodies are limited to ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Form fields; a field given more than once keeps all its values (the signature covers each). */
export function parseForm(body: string): Params {
  const params: Params = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}
