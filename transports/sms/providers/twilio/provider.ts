// The Twilio provider: the REST API (2010-04-01) through the official SDK, and Twilio's webhooks
// (form-encoded, signed with X-Twilio-Signature over the public URL and the fields). Group texts go
// through the Conversations API instead (conversations.ts), whose webhooks are signed the same way.
import twilio from "twilio";
import type { Logger } from "pino";
import { readMedia } from "../../media-download.js";
import {
  noAnswerError,
  ProviderError,
  type IncomingText,
  type Params,
  type ProviderAccount,
  type ProviderStore,
  type SmsProvider,
  type StatusUpdate,
} from "../../provider.js";
import type { TwilioSmsConfig } from "../../config.js";
import { twilioAccount, twilioAccounts } from "./accounts.js";
import { describeTwilioCode, isTemporary } from "./errors.js";
import { aimAt, createTwilioHttpClient } from "./http-client.js";
import { createGroupConversations, MAX_GROUP_MEMBERS } from "./conversations.js";

type TwilioClient = ReturnType<typeof twilio>;

const API_TIMEOUT_MS = 20_000;
/** Where Twilio's webhooks say an MMS's media is (MediaUrl0, …), whatever base URL the gateway uses. */
const TWILIO_API_ORIGIN = "https://api.twilio.com";
/** Twilio's Media Content Service, where media of Conversations messages live. */
const MCS_ORIGIN = "https://mcs.us1.twilio.com";
const MCS_MEDIA_PATH = /\/v1\/Services\/IS[0-9a-fA-F]{32}\/Media\/ME[0-9a-fA-F]{32}$/;
/** Twilio answers a webhook it is happy with by empty TwiML. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

export function createTwilioProvider(config: Pick<TwilioSmsConfig, "apiBaseUrl" | "operator">, log: Logger, store: ProviderStore): SmsProvider {
  const options = config;
  const apiOrigin = new URL(options.apiBaseUrl).origin;
  // The Media Content Service is another host; a proxy or stand-in serves every Twilio host at its base.
  const apiBase = options.apiBaseUrl.replace(/\/$/, "");
  const mcsBase = apiBase === "https://api.twilio.com" ? MCS_ORIGIN : apiBase;
  const httpClient = createTwilioHttpClient(options.apiBaseUrl, API_TIMEOUT_MS);
  const aimed = aimAt(options.apiBaseUrl);
  // One SDK client per account; BYO users each have theirs.
  const clients = new Map<string, TwilioClient>();
  const sidOf = (account: ProviderAccount): string => account.credentials.accountSid ?? "";
  const tokenOf = (account: ProviderAccount): string => account.credentials.authToken ?? "";
  const clientFor = (account: ProviderAccount): TwilioClient => {
    const key = `${sidOf(account)}:${tokenOf(account)}`;
    let client = clients.get(key);
    if (!client) {
      client = twilio(sidOf(account), tokenOf(account), { httpClient, autoRetry: false });
      if (clients.size > 1_000) clients.clear();
      clients.set(key, client);
    }
    return client;
  };

  const single = (params: Params, name: string): string => {
    const value = params[name];
    return (Array.isArray(value) ? value[0] : value) ?? "";
  };
  const groupTexts = createGroupConversations({
    clientFor,
    call,
    mediaUrl: (chatServiceSid, mediaSid) => `${mcsBase}/v1/Services/${chatServiceSid}/Media/${mediaSid}`,
    store,
    log,
  });
  const basicAuth = (account: ProviderAccount): string => `Basic ${Buffer.from(`${sidOf(account)}:${tokenOf(account)}`).toString("base64")}`;
  // Twilio redirects a media URL to its CDN: fetch follows, and drops the Authorization header on a
  // redirect to another origin (Fetch standard; test/sms/twilio-media-proxy.test.ts checks it).
  const download = (url: string, headers: Record<string, string>) =>
    fetch(url, { headers, redirect: "follow", signal: AbortSignal.timeout(API_TIMEOUT_MS) }).catch((error: unknown) => {
      throw new ProviderError(`could not fetch media: ${(error as Error).message}`, { temporary: true });
    });

  return {
    name: "twilio",
    displayName: "Twilio",
    accounts: twilioAccounts,
    ...(config.operator && { operatorAccount: twilioAccount(config.operator.accountSid, config.operator.authToken) }),
    // A group text is a group MMS Conversation of at most ten participants, the gateway's number one of them.
    limits: { bodyChars: 1_600, media: 10, groupRecipients: MAX_GROUP_MEMBERS },
    describeError: describeTwilioCode,
    sendGroup: (account, text) => groupTexts.send(account, text),
    forgetNumber: (account, number) => groupTexts.forgetNumber(account, number),
    async send(account, text) {
      const message = await call(() =>
        clientFor(account).messages.create({
          to: text.to,
          from: text.from,
          ...(text.body && { body: text.body }),
          ...(text.mediaUrls.length > 0 && { mediaUrl: text.mediaUrls }),
          statusCallback: text.statusCallback,
        }),
      );
      // Twilio can refuse at once yet answer 201 with status "failed" and an error code.
      if (message.status === "failed" || message.status === "undelivered") {
        throw new ProviderError(message.errorMessage ?? "Twilio refused the text", {
          ...(message.errorCode != null && { code: String(message.errorCode) }),
          httpStatus: 400,
          temporary: false,
        });
      }
      return { id: message.sid };
    },
    async recentTexts(account, conversation, limit) {
      const listed = await call(() => clientFor(account).messages.list({ from: conversation.from, to: conversation.to, limit }));
      return listed.map((text) => ({ id: text.sid, body: text.body ?? "", media: Number(text.numMedia) || 0, createdAt: text.dateCreated }));
    },
    async verifyAccount(account) {
      await call(() => clientFor(account).api.v2010.accounts(sidOf(account)).fetch());
    },
    async findNumber(account, number) {
      const found = await call(() => clientFor(account).incomingPhoneNumbers.list({ phoneNumber: number, limit: 1 }));
      return found.find((entry) => entry.phoneNumber === number)?.sid;
    },
    async pointNumber(account, numberId, smsUrl) {
      await call(() =>
        clientFor(account)
          .incomingPhoneNumbers(numberId)
          .update({ smsUrl: smsUrl ?? "", smsMethod: "POST" }),
      );
    },
    async fetchMedia(account, url, maxBytes) {
      // Only fetch from Twilio itself: a webhook must not make the gateway fetch arbitrary URLs. Media
      // on Twilio's API host goes through the configured base (an API proxy) as the API calls do.
      const named = URL.canParse(url) ? new URL(url) : undefined;
      const target = named?.origin === TWILIO_API_ORIGIN ? new URL(aimed(named.href)) : named;
      const mcsOrigin = new URL(mcsBase).origin;
      if (!target || (target.origin !== apiOrigin && target.origin !== mcsOrigin))
        throw new ProviderError(`media URL outside ${apiOrigin}`, { temporary: false });
      if (target.origin === mcsOrigin && MCS_MEDIA_PATH.test(target.pathname)) {
        // A Conversations message's media: the Media Content Service answers with a short-lived link to it.
        const described = await download(target.href, { authorization: basicAuth(account), accept: "application/json" });
        if (!described.ok) {
          await described.body?.cancel().catch(() => undefined);
          throw new ProviderError(`the media's description answered HTTP ${described.status}`, {
            httpStatus: described.status,
            temporary: isTemporary(described.status, undefined),
          });
        }
        const link = ((await described.json().catch(() => undefined)) as { links?: { content_direct_temporary?: unknown } } | undefined)?.links
          ?.content_direct_temporary;
        const direct = typeof link === "string" && URL.canParse(link) ? new URL(link) : undefined;
        const fromTwilio =
          direct && (direct.origin === apiOrigin || direct.origin === mcsOrigin || (direct.protocol === "https:" && direct.hostname.endsWith(".twilio.com")));
        if (!direct || !fromTwilio) throw new ProviderError("the media's description gives no link to its content at Twilio", { temporary: false });
        // The link is signed itself: the account's credentials are not sent along.
        return readMedia(await download(direct.href, {}), maxBytes, (status) => isTemporary(status, undefined));
      }
      const response = await download(target.href, { authorization: basicAuth(account) });
      return readMedia(response, maxBytes, (status) => isTemporary(status, undefined));
    },

    webhookContentType: "application/x-www-form-urlencoded",
    webhookAnswer: { contentType: "text/xml; charset=utf-8", body: EMPTY_TWIML },
    claim(request) {
      const accountSid = single(parseForm(request.body), "AccountSid");
      return accountSid ? { accountId: accountSid } : {};
    },
    async verify(request, account) {
      const signature = request.headers["x-twilio-signature"];
      if (typeof signature !== "string" || !tokenOf(account)) return false;
      const params = parseForm(request.body);
      // The signature names the account too: a token of another account never checks out.
      if (single(params, "AccountSid") !== sidOf(account)) return false;
      return twilio.validateRequest(tokenOf(account), signature, request.url, params);
    },
    read(request, endpoint, account) {
      const params = parseForm(request.body);
      // Conversations webhooks (group texts) say what they are; the operator may point them at either URL.
      if (single(params, "EventType")) return groupTexts.read(params, account);
      return endpoint === "incoming" ? { kind: "incoming", text: readIncoming(params) } : { kind: "status", update: readStatus(params) };
    },
  };

  function readIncoming(params: Params): Omit<IncomingText, "accountId"> {
    const id = single(params, "MessageSid") || single(params, "SmsMessageSid");
    const count = Number(single(params, "NumMedia") || "0");
    if (!id || !single(params, "From") || !single(params, "To")) throw new ProviderError("webhook lacks MessageSid, From or To", { temporary: false });
    if (!Number.isInteger(count) || count < 0 || count > 10) throw new ProviderError("webhook has a NumMedia outside 0..10", { temporary: false });
    const media = Array.from({ length: count }, (_unused, index) => ({
      url: single(params, `MediaUrl${index}`),
      mediaType: single(params, `MediaContentType${index}`),
    }));
    if (media.some((item) => !/^https?:\/\//.test(item.url))) throw new ProviderError("webhook names media without a URL", { temporary: false });
    const keyword = single(params, "OptOutType");
    return { id, from: single(params, "From"), to: single(params, "To"), body: single(params, "Body"), media, ...(keyword && { keyword }) };
  }

  function readStatus(params: Params): StatusUpdate {
    const id = single(params, "MessageSid") || single(params, "SmsSid");
    const status = single(params, "MessageStatus") || single(params, "SmsStatus");
    if (!id || !status) throw new ProviderError("status callback lacks MessageSid or MessageStatus", { temporary: false });
    const code = Number(single(params, "ErrorCode"));
    const state = status === "delivered" || status === "read" ? "delivered" : ["failed", "undelivered", "canceled"].includes(status) ? "failed" : "progress";
    return { id, state, detail: status, ...(Number.isInteger(code) && code > 0 && { errorCode: String(code) }) };
  }

  /** Runs an SDK call and turns its failures into ProviderErrors. */
  async function call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof twilio.RestException) {
        const code = typeof error.code === "number" ? error.code : undefined;
        throw new ProviderError(error.message, {
          httpStatus: error.status,
          ...(code !== undefined && { code: String(code) }),
          temporary: isTemporary(error.status, code),
          auth: code === 20003 || error.status === 401,
          rateLimited: code === 20429 || error.status === 429,
        });
      }
      // Only the message: the SDK's network errors carry the request, Authorization header included.
      log.debug({ reason: (error as Error).message, code: (error as NodeJS.ErrnoException).code }, "twilio API call failed without an answer");
      throw noAnswerError("Twilio", error);
    }
  }
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
