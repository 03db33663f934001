// The Telnyx provider: the v2 Messaging API through the official SDK (POST /v2/messages and the
// number and messaging-profile resources), and Telnyx's webhooks: JSON events (message.received,
// message.sent, message.finalized) signed with the account's Ed25519 key over "timestamp|body",
// checked by the SDK's webhooks.unwrap (which also refuses timestamps more than 5 minutes off).
import Telnyx, { APIError } from "telnyx";
import type { Logger } from "pino";
import { fetch } from "undici";
import { gatewayError, guardedAgent } from "../../../../src/transport/index.js";
import type { TelnyxSmsConfig } from "../../config.js";
import { readMedia } from "../../media-download.js";
import {
  noAnswerError,
  ProviderError,
  type IncomingText,
  type ProviderAccount,
  type SmsProvider,
  type StatusUpdate,
  type WebhookEvent,
  type WebhookRequest,
} from "../../provider.js";
import { telnyxAccount, telnyxAccounts } from "./accounts.js";
import { describeTelnyxError, isTemporary } from "./errors.js";

const API_TIMEOUT_MS = 20_000;
/** Telnyx takes at most ten media URLs per MMS. */
const MAX_MEDIA = 10;
/** Telnyx's group MMS goes to at most eight people besides the sender. */
const MAX_GROUP_RECIPIENTS = 8;
/** More recipients than any group MMS has: such a webhook is not a text we can make sense of. */
const MAX_LISTED = 100;

/** The parts of a Telnyx messaging event the gateway reads; everything else is ignored. */
interface TelnyxEvent {
  data?: {
    event_type?: string;
    payload?: {
      id?: string;
      direction?: string;
      from?: { phone_number?: string };
      to?: Array<{ phone_number?: string; status?: string }>;
      cc?: Array<{ phone_number?: string }>;
      text?: string | null;
      media?: Array<{ url?: string; content_type?: string | null }>;
      errors?: Array<{ code?: string; title?: string; detail?: string }>;
    };
  };
}

export function createTelnyxProvider(config: Pick<TelnyxSmsConfig, "apiBaseUrl" | "operator" | "allowPrivateMediaHosts">, log: Logger): SmsProvider {
  // One SDK client per API key; users who bring their own account each have theirs.
  const clients = new Map<string, Telnyx>();
  const clientFor = (account: ProviderAccount): Telnyx => {
    const apiKey = account.credentials.apiKey ?? "";
    let client = clients.get(apiKey);
    if (!client) {
      // No retries inside the SDK: the outbox retries, with back-off, across restarts.
      client = new Telnyx({ apiKey, baseURL: config.apiBaseUrl, maxRetries: 0, timeout: API_TIMEOUT_MS });
      if (clients.size > 1_000) clients.clear();
      clients.set(apiKey, client);
    }
    return client;
  };
  // Media links point at Telnyx's storage, wherever that is: only public addresses are fetched.
  const mediaAgent = guardedAgent({ allowPrivate: config.allowPrivateMediaHosts, role: "media host", connectTimeoutMs: API_TIMEOUT_MS });

  return {
    name: "telnyx",
    displayName: "Telnyx",
    accounts: telnyxAccounts,
    ...(config.operator && { operatorAccount: telnyxAccount(config.operator.apiKey, config.operator.publicKey) }),
    limits: { bodyChars: 1_600, media: MAX_MEDIA, groupRecipients: MAX_GROUP_RECIPIENTS },
    describeError: describeTelnyxError,

    async send(account, text) {
      const response = await call(() => clientFor(account).messages.send({ ...requestOf(text), to: text.to }));
      return { id: takenId(response, "text") };
    },
    async sendGroup(account, text) {
      const response = await call(() => clientFor(account).messages.sendGroupMms({ ...requestOf(text), to: text.to }));
      return { id: takenId(response, "group text") };
    },
    async verifyAccount(account) {
      await call(() => clientFor(account).balance.retrieve());
    },
    async findNumber(account, number) {
      const page = await call(() => clientFor(account).phoneNumbers.list({ filter: { phone_number: number } }));
      const found = page.data.find((entry) => entry.phone_number === number);
      if (!found) return undefined;
      // Telnyx posts a number's inbound texts to the webhook URL of its messaging profile.
      if (!found.messaging_profile_id || found.messaging_profile_id === "UNAVAILABLE") {
        throw gatewayError(
          "not-acceptable",
          `${number} has no messaging profile at Telnyx; assign it to one in the Telnyx portal (Messaging), then register again.`,
          "number-without-profile",
        );
      }
      return found.messaging_profile_id;
    },
    async pointNumber(account, profileId, smsUrl) {
      await call(() => clientFor(account).messagingProfiles.update(profileId, { webhook_url: smsUrl }));
    },
    async fetchMedia(_account, url, maxBytes) {
      if (!/^https?:\/\//i.test(url)) throw new ProviderError("media URL is not http(s)", { temporary: false });
      const response = await fetch(url, { dispatcher: mediaAgent, redirect: "follow", signal: AbortSignal.timeout(API_TIMEOUT_MS) }).catch((error: unknown) => {
        const cause = (error as { cause?: Error }).cause;
        throw new ProviderError(`could not fetch media: ${cause?.message ?? (error as Error).message}`, { temporary: !(cause && "condition" in cause) });
      });
      return readMedia(response, maxBytes, (status) => status >= 500 || status === 429);
    },

    webhookContentType: "application/json",
    webhookAnswer: { contentType: "text/plain; charset=utf-8", body: "" },
    claim(request) {
      const payload = parse(request.body)?.data?.payload;
      // An inbound text names our number as its recipient; a status event as its sender.
      const number = payload?.direction === "inbound" ? payload.to?.[0]?.phone_number : payload?.from?.phone_number;
      return typeof number === "string" && number ? { number } : {};
    },
    async verify(request, account) {
      const publicKey = account.credentials.publicKey;
      if (!publicKey) return false;
      try {
        await clientFor(account).webhooks.unwrap(request.body, { headers: stringHeaders(request), key: publicKey });
        return true;
      } catch (error) {
        log.debug({ reason: (error as Error).message }, "a Telnyx webhook signature did not check out");
        return false;
      }
    },
    read(request): WebhookEvent {
      const event = parse(request.body);
      const type = event?.data?.event_type;
      const payload = event?.data?.payload;
      if (!type || !payload) throw new ProviderError("webhook is not a Telnyx event (data.event_type, data.payload)", { temporary: false });
      if (type === "message.received") return { kind: "incoming", text: readIncoming(payload) };
      if (type === "message.sent" || type === "message.finalized") return { kind: "status", update: readStatus(payload) };
      return { kind: "other", type };
    },
  };

  function readIncoming(payload: NonNullable<NonNullable<TelnyxEvent["data"]>["payload"]>): Omit<IncomingText, "accountId"> {
    const id = payload.id ?? "";
    const from = payload.from?.phone_number ?? "";
    const to = payload.to?.[0]?.phone_number ?? "";
    if (!id || !from || !to) throw new ProviderError("message.received lacks id, from or to", { temporary: false });
    const media = (payload.media ?? []).map((item) => ({ url: item.url ?? "", mediaType: item.content_type ?? "" }));
    if (media.length > MAX_MEDIA) throw new ProviderError(`message.received has more than ${MAX_MEDIA} media`, { temporary: false });
    if (media.some((item) => !/^https?:\/\//.test(item.url))) throw new ProviderError("message.received names media without a URL", { temporary: false });
    // A group MMS lists everyone else in to[] and cc[] (docs: "Group Messaging").
    const listed = [...(Array.isArray(payload.to) ? payload.to.slice(1) : []), ...(Array.isArray(payload.cc) ? payload.cc : [])];
    if (listed.length > MAX_LISTED) throw new ProviderError(`message.received lists more than ${MAX_LISTED} recipients`, { temporary: false });
    const recipients = listed.map((entry) => entry?.phone_number).filter((number): number is string => typeof number === "string" && number !== "");
    return { id, from, to, body: payload.text ?? "", media, ...(recipients.length > 0 && { recipients }) };
  }

  function readStatus(payload: NonNullable<NonNullable<TelnyxEvent["data"]>["payload"]>): StatusUpdate {
    const id = payload.id ?? "";
    const status = payload.to?.[0]?.status ?? "";
    if (!id || !status) throw new ProviderError("status event lacks id or to[].status", { temporary: false });
    // delivery_unconfirmed is final too, but says nothing either way: no receipt, no error.
    const state = status === "delivered" ? "delivered" : status === "sending_failed" || status === "delivery_failed" ? "failed" : "progress";
    const code = payload.errors?.[0]?.code;
    return { id, state, detail: status, ...(code && { errorCode: String(code) }) };
  }

  /** Runs an SDK call and turns its failures into ProviderErrors. */
  async function call<T>(run: () => PromiseLike<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof APIError && error.status !== undefined) {
        const first = (error.error as { errors?: Array<{ code?: unknown; title?: unknown; detail?: unknown }> } | undefined)?.errors?.[0];
        const code = first?.code !== undefined ? String(first.code) : undefined;
        const words = [first?.title, first?.detail].filter((part): part is string => typeof part === "string" && part.length > 0).join(": ");
        const retryAfter = Number(error.headers?.get("retry-after"));
        throw new ProviderError(words || error.message, {
          httpStatus: error.status,
          ...(code !== undefined && { code }),
          temporary: isTemporary(error.status, code),
          auth: code === "10009" || error.status === 401,
          rateLimited: code === "10011" || error.status === 429,
          ...(Number.isFinite(retryAfter) && retryAfter > 0 && { retryAfterMs: retryAfter * 1_000 }),
        });
      }
      // Only the message: a network error may carry the request, Authorization header included.
      log.debug({ reason: (error as Error).message }, "telnyx API call failed without an answer");
      throw noAnswerError("Telnyx", error);
    }
  }
}

function parse(body: string): TelnyxEvent | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return value && typeof value === "object" ? (value as TelnyxEvent) : undefined;
  } catch {
    return undefined;
  }
}

function stringHeaders(request: WebhookRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (typeof value === "string") headers[name] = value;
  return headers;
}

/** What both message endpoints take besides the recipients. */
function requestOf(text: { from: string; body: string; mediaUrls: string[]; statusCallback: string }) {
  return {
    from: text.from,
    ...(text.body && { text: text.body }),
    ...(text.mediaUrls.length > 0 && { media_urls: text.mediaUrls }),
    webhook_url: text.statusCallback,
  };
}

interface MessageAnswer {
  data?: { id?: string; to?: Array<{ status?: string }>; errors?: Array<{ code?: string; detail?: string; title?: string }> };
}

/** The id of a message Telnyx took. Telnyx answers for each recipient: a message that failed for
 *  every one of them (the only one, for a one-to-one text) is a refusal. */
function takenId(response: MessageAnswer, what: string): string {
  const id = response.data?.id;
  if (!id) throw new ProviderError(`Telnyx accepted the ${what} without giving its id`, { temporary: false });
  const recipients = response.data?.to ?? [];
  if (recipients.length > 0 && recipients.every((to) => to.status === "sending_failed")) {
    const error = response.data?.errors?.[0];
    throw new ProviderError(error?.detail ?? error?.title ?? `Telnyx refused the ${what}`, {
      ...(error?.code && { code: error.code }),
      httpStatus: 400,
      temporary: false,
    });
  }
  return id;
}
