// A local stand-in for Telnyx's v2 Messaging API and its webhooks, for tests, on loopback only:
// the same paths, JSON bodies ({ data: … } answers, { errors: [{ code, title, detail }] } errors),
// Bearer API keys and error codes as Telnyx documents them. It posts message.received,
// message.sent and message.finalized events signed as Telnyx signs them: Ed25519 over
// "<telnyx-timestamp>|<body>" with the account's key, in telnyx-signature-ed25519.
import { generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface TelnyxProfile {
  id: string;
  name: string;
  webhookUrl: string | null;
}

export interface TelnyxNumber {
  id: string;
  phoneNumber: string;
  messagingProfileId: string | null;
}

export interface TelnyxAccount {
  apiKey: string;
  /** The account's webhook public key, base64 as the portal shows it. */
  publicKey: string;
  privateKey: KeyObject;
  organizationId: string;
  profile: TelnyxProfile;
  profiles: Map<string, TelnyxProfile>;
  numbers: Map<string, TelnyxNumber>;
}

export interface TelnyxMessage {
  id: string;
  account: TelnyxAccount;
  from: string;
  to: string;
  text: string;
  mediaUrls: string[];
  webhookUrl: string;
  status: string;
  /** What the stand-in got when it fetched each media URL, as Telnyx does for MMS. */
  fetchedMedia: Array<{ url: string; status: number; bytes: Buffer }>;
}

/** A group MMS sent through POST /v2/messages/group_mms. */
export interface TelnyxGroupMessage {
  id: string;
  account: TelnyxAccount;
  from: string;
  to: string[];
  text: string;
  mediaUrls: string[];
  webhookUrl: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  body: unknown;
  status: number;
}

/** Telnyx's titles for the codes the stand-in answers with. */
const TITLES: Record<string, string> = {
  "10004": "Missing required parameter",
  "10005": "Resource not found",
  "10007": "Unexpected error",
  "10009": "Authentication failed",
  "10011": "Too many requests",
  "10015": "Bad Request",
  "40001": "Not routable",
  "40002": "Blocked as spam - temporary",
  "40003": "Blocked as spam - permanent",
  "40006": "Recipient server unavailable",
  "40008": "Undeliverable",
  "40300": "Blocked due to STOP message",
  "40305": "Invalid 'from' address",
  "40310": "Invalid 'to' address",
};

const iso = (date = new Date()): string => date.toISOString();

export class TelnyxStandin {
  readonly accounts = new Map<string, TelnyxAccount>();
  readonly messages: TelnyxMessage[] = [];
  readonly groupMessages: TelnyxGroupMessage[] = [];
  readonly requests: RecordedRequest[] = [];
  private readonly refusals = new Map<string, string>();
  private readonly media = new Map<string, { contentType: string; data: Buffer }>();
  private failures: number[] = [];
  private mediaGate: Promise<void> | null = null;
  private server: Server | null = null;
  private port = 0;
  /** Posts message.finalized (delivered) for every new message as soon as it is accepted. */
  autoStatus: "delivered" | null = null;

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the SDK's baseURL is set to: the API root with its /v2 prefix. */
  get baseUrl(): string {
    return `${this.origin}/v2`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  addAccount(): TelnyxAccount {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    // The raw 32-byte key is the tail of its SPKI encoding.
    const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
    const profile: TelnyxProfile = { id: randomUUID(), name: "Default", webhookUrl: null };
    const account: TelnyxAccount = {
      apiKey: `KEY${randomBytes(16).toString("hex").toUpperCase()}_${randomBytes(12).toString("base64url")}`,
      publicKey: raw,
      privateKey,
      organizationId: randomUUID(),
      profile,
      profiles: new Map([[profile.id, profile]]),
      numbers: new Map(),
    };
    this.accounts.set(account.apiKey, account);
    return account;
  }

  /** A number of the account, on its default messaging profile (or on none). */
  addNumber(account: TelnyxAccount, phoneNumber: string, options: { profile?: TelnyxProfile | null } = {}): TelnyxNumber {
    const profile = options.profile === undefined ? account.profile : options.profile;
    const number = { id: String(BigInt(`0x${randomBytes(7).toString("hex")}`)), phoneNumber, messagingProfileId: profile?.id ?? null };
    account.numbers.set(phoneNumber, number);
    return number;
  }

  /** After `skip` requests are handled normally, the next `count` answer `status` (429 or 5xx) instead. */
  failNext(count: number, status: 429 | 500 | 503, skip = 0): void {
    this.failures.push(...Array.from({ length: skip }, () => 0), ...Array.from({ length: count }, () => status));
  }

  /** Sends to this number are refused at once with this Telnyx error code (40300, 40310…). */
  refuse(to: string, code: string): void {
    this.refusals.set(to, code);
  }

  /** Media downloads wait until the returned function is called. */
  holdMedia(): () => void {
    let release = (): void => undefined;
    this.mediaGate = new Promise<void>((resolve) => {
      release = () => {
        this.mediaGate = null;
        resolve();
      };
    });
    return release;
  }

  /** Media an inbound MMS points at, on the stand-in's storage (no credentials needed, as at Telnyx). */
  storeMedia(contentType: string, data: Buffer): string {
    const path = `/media/${randomUUID()}`;
    this.media.set(path, { contentType, data });
    return `${this.origin}${path}`;
  }

  async waitForMessages(count: number, timeoutMs = 10_000): Promise<TelnyxMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} messages at the Telnyx stand-in, have ${this.messages.length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.messages;
  }

  /** Moves a message on and posts its event (message.sent, or message.finalized) to its webhook_url. */
  async postStatus(
    id: string,
    status: "sent" | "delivered" | "delivery_failed" | "sending_failed" | "delivery_unconfirmed",
    errorCode?: string,
  ): Promise<number> {
    const message = this.messages.find((candidate) => candidate.id === id);
    if (!message) throw new Error(`the stand-in sent no message ${id}`);
    message.status = status;
    const payload = {
      ...this.messagePayload(message),
      sent_at: iso(),
      ...(status !== "sent" && { completed_at: iso() }),
      errors: errorCode ? [{ code: errorCode, title: TITLES[errorCode] ?? `Error ${errorCode}`, detail: TITLES[errorCode] ?? "" }] : [],
    };
    const event = {
      data: { event_type: status === "sent" ? "message.sent" : "message.finalized", id: randomUUID(), occurred_at: iso(), payload, record_type: "event" },
      meta: { attempt: 1, delivered_to: message.webhookUrl },
    };
    return (await this.postSigned(message.webhookUrl, message.account, event)).status;
  }

  /** Posts message.finalized for a group MMS to its webhook_url, every recipient in `to` with `status`. */
  async postGroupStatus(id: string, status: "delivered" | "delivery_failed", errorCode?: string): Promise<number> {
    const message = this.groupMessages.find((candidate) => candidate.id === id);
    if (!message) throw new Error(`the stand-in sent no group message ${id}`);
    const number = message.account.numbers.get(message.from);
    const payload = {
      record_type: "message",
      direction: "outbound",
      id: message.id,
      type: "MMS",
      messaging_profile_id: number?.messagingProfileId ?? null,
      organization_id: message.account.organizationId,
      from: { phone_number: message.from, carrier: "TELNYX LLC", line_type: "VoIP" },
      to: message.to.map((phoneNumber) => ({ phone_number: phoneNumber, status, carrier: "T-MOBILE USA, INC.", line_type: "Wireless" })),
      cc: [],
      text: message.text,
      subject: null,
      media: message.mediaUrls.map((url) => ({ url, content_type: null, sha256: null, size: null })),
      webhook_url: message.webhookUrl,
      webhook_failover_url: "",
      encoding: "GSM-7",
      parts: 1,
      tags: [],
      cost: null,
      received_at: iso(),
      sent_at: iso(),
      completed_at: iso(),
      valid_until: null,
      errors: errorCode ? [{ code: errorCode, title: TITLES[errorCode] ?? `Error ${errorCode}`, detail: TITLES[errorCode] ?? "" }] : [],
    };
    const event = {
      data: { event_type: "message.finalized", id: randomUUID(), occurred_at: iso(), payload, record_type: "event" },
      meta: { attempt: 1, delivered_to: message.webhookUrl },
    };
    return (await this.postSigned(message.webhookUrl, message.account, event)).status;
  }

  /** Posts message.received to the number's messaging profile webhook, signed by its account. */
  async sendInbound(input: {
    account: TelnyxAccount;
    from: string;
    to: string;
    text: string;
    media?: Array<{ contentType: string; data: Buffer }>;
    /** A group MMS: the other participants, listed in cc as Telnyx lists them. */
    cc?: string[];
    id?: string;
    /** Post here instead of the profile's webhook URL. */
    url?: string;
    /** valid; forged (another key); missing; stale (signed, 6 minutes old); future (6 minutes ahead). */
    signature?: "valid" | "forged" | "missing" | "stale" | "future";
  }): Promise<{ status: number; text: string; id: string; body: string }> {
    const number = input.account.numbers.get(input.to);
    const profile = number?.messagingProfileId ? input.account.profiles.get(number.messagingProfileId) : undefined;
    const url = input.url ?? profile?.webhookUrl;
    if (!url) throw new Error(`number ${input.to} has no messaging profile with a webhook URL`);
    const id = input.id ?? randomUUID();
    const media = (input.media ?? []).map((item) => ({
      url: this.storeMedia(item.contentType, item.data),
      content_type: item.contentType,
      size: item.data.length,
      hash_sha256: null,
    }));
    const payload = {
      record_type: "message",
      direction: "inbound",
      id,
      type: media.length > 0 || input.cc?.length ? "MMS" : "SMS",
      messaging_profile_id: profile?.id ?? null,
      organization_id: input.account.organizationId,
      from: { phone_number: input.from, carrier: "T-MOBILE USA, INC.", line_type: "Wireless" },
      to: [{ phone_number: input.to, status: "webhook_delivered", carrier: "TELNYX LLC", line_type: "Wireless" }],
      cc: (input.cc ?? []).map((phoneNumber) => ({
        phone_number: phoneNumber,
        status: "webhook_delivered",
        carrier: "T-MOBILE USA, INC.",
        line_type: "Wireless",
      })),
      text: input.text,
      subject: null,
      media,
      webhook_url: url,
      webhook_failover_url: null,
      encoding: "GSM-7",
      parts: 1,
      tags: [],
      cost: null,
      received_at: iso(),
      sent_at: null,
      completed_at: null,
      valid_until: null,
      errors: [],
    };
    const event = {
      data: { event_type: "message.received", id: randomUUID(), occurred_at: iso(), payload, record_type: "event" },
      meta: { attempt: 1, delivered_to: url },
    };
    const signature = input.signature ?? "valid";
    const signer = signature === "forged" ? this.addAccount() : input.account;
    if (signature === "forged") this.accounts.delete(signer.apiKey);
    const shift = signature === "stale" ? -360 : signature === "future" ? 360 : 0;
    const result = await this.postSigned(url, signer, event, { unsigned: signature === "missing", shiftSeconds: shift });
    return { ...result, id };
  }

  /** A JSON POST signed as Telnyx signs webhooks. */
  async postSigned(
    url: string,
    account: TelnyxAccount,
    event: unknown,
    options: { unsigned?: boolean; shiftSeconds?: number } = {},
  ): Promise<{ status: number; text: string; body: string }> {
    assertLoopback(url);
    const body = JSON.stringify(event);
    const timestamp = String(Math.floor(Date.now() / 1000) + (options.shiftSeconds ?? 0));
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "telnyx-webhooks" };
    if (!options.unsigned) {
      headers["telnyx-timestamp"] = timestamp;
      headers["telnyx-signature-ed25519"] = sign(null, Buffer.from(`${timestamp}|${body}`), account.privateKey).toString("base64");
    }
    const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(30_000) });
    return { status: response.status, text: await response.text(), body };
  }

  private messagePayload(message: TelnyxMessage): Record<string, unknown> {
    const number = message.account.numbers.get(message.from);
    return {
      record_type: "message",
      direction: "outbound",
      id: message.id,
      type: message.mediaUrls.length > 0 ? "MMS" : "SMS",
      messaging_profile_id: number?.messagingProfileId ?? null,
      organization_id: message.account.organizationId,
      from: { phone_number: message.from, carrier: "TELNYX LLC", line_type: "VoIP" },
      to: [{ phone_number: message.to, status: message.status, carrier: "T-MOBILE USA, INC.", line_type: "Wireless" }],
      cc: [],
      text: message.text,
      subject: null,
      media: message.mediaUrls.map((url) => ({ url, content_type: null, sha256: null, size: null })),
      webhook_url: message.webhookUrl,
      webhook_failover_url: "",
      encoding: "GSM-7",
      parts: Math.max(1, Math.ceil(message.text.length / 153)),
      tags: [],
      cost: null,
      received_at: iso(),
      sent_at: null,
      completed_at: null,
      valid_until: iso(new Date(Date.now() + 3_600_000)),
      errors: [],
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const raw = await readBody(req);
    let body: unknown;
    const record: RecordedRequest = { method: req.method ?? "GET", path: url.pathname, query: decodeURIComponent(url.search), body: undefined, status: 0 };
    this.requests.push(record);
    const reply = (status: number, payload: unknown, contentType = "application/json"): void => {
      record.status = status;
      res.writeHead(status, { "content-type": contentType, "x-request-id": randomUUID() });
      res.end(Buffer.isBuffer(payload) ? payload : JSON.stringify(payload));
    };
    const fail = (status: number, code: string, detail: string, pointer?: string): void =>
      reply(status, {
        errors: [
          {
            code,
            title: TITLES[code] ?? `Error ${code}`,
            detail,
            ...(pointer && { source: { pointer } }),
            meta: { url: `https://developers.telnyx.com/docs/overview/errors/${code}` },
          },
        ],
      });

    // Media storage: public links, no credentials, as Telnyx's media URLs are.
    if (url.pathname.startsWith("/media/") && req.method === "GET") {
      const stored = this.media.get(url.pathname);
      if (!stored) return reply(404, Buffer.from("Not Found"), "text/plain");
      if (this.mediaGate) await this.mediaGate;
      return reply(200, stored.data, stored.contentType);
    }

    const failure = this.failures.shift();
    if (failure === 429) return fail(429, "10011", "You have exceeded the maximum number of allowed requests.");
    if (failure) return fail(failure, "10007", "An unexpected error occured.");

    const header = req.headers.authorization ?? "";
    const account = header.startsWith("Bearer ") ? this.accounts.get(header.slice(7)) : undefined;
    if (!account) return fail(401, "10009", "The required authentication headers were either invalid or not included in the request.");
    if (raw.length > 0) {
      if (!(req.headers["content-type"] ?? "").startsWith("application/json"))
        return fail(415, "10014", "The request failed because the server does not support the media type.");
      try {
        body = JSON.parse(raw);
      } catch {
        return fail(400, "10015", "The request failed because it was not well-formed.");
      }
    }
    record.body = body;
    const method = req.method ?? "GET";
    const path = url.pathname;

    if (path === "/v2/messages" && method === "POST") return this.createMessage(account, (body ?? {}) as Record<string, unknown>, reply, fail);
    if (path === "/v2/messages/group_mms" && method === "POST") return this.createGroupMessage(account, (body ?? {}) as Record<string, unknown>, reply, fail);
    if (path === "/v2/balance" && method === "GET") {
      return reply(200, {
        data: { record_type: "balance", balance: "300.00", credit_limit: "100.00", available_credit: "400.00", currency: "USD", pending: "0.00" },
      });
    }
    if (path === "/v2/phone_numbers" && method === "GET") {
      const wanted = url.searchParams.get("filter[phone_number]");
      const numbers = [...account.numbers.values()].filter((number) => !wanted || number.phoneNumber === wanted);
      return reply(200, {
        data: numbers.map((number) => this.numberJson(account, number)),
        meta: { page_number: 1, page_size: 20, total_pages: 1, total_results: numbers.length },
      });
    }
    const profileMatch = /^\/v2\/messaging_profiles\/([\w-]+)$/.exec(path);
    if (profileMatch) {
      const profile = account.profiles.get(profileMatch[1]!);
      if (!profile) return fail(404, "10005", "The requested resource or URL could not be found.");
      if (method === "PATCH") {
        const update = (body ?? {}) as { webhook_url?: unknown };
        if ("webhook_url" in update) {
          if (update.webhook_url !== null && typeof update.webhook_url !== "string")
            return fail(422, "10015", "webhook_url must be a string or null", "/webhook_url");
          profile.webhookUrl = (update.webhook_url as string | null) || null;
        }
      } else if (method !== "GET") {
        return fail(405, "10015", "Method not allowed");
      }
      return reply(200, { data: profileJson(profile) });
    }
    return fail(404, "10005", "The requested resource or URL could not be found.");
  }

  private createMessage(
    account: TelnyxAccount,
    body: Record<string, unknown>,
    reply: (status: number, payload: unknown) => void,
    fail: (status: number, code: string, detail: string, pointer?: string) => void,
  ): void {
    const to = typeof body.to === "string" ? body.to : "";
    const from = typeof body.from === "string" ? body.from : "";
    const text = typeof body.text === "string" ? body.text : "";
    const mediaUrls = Array.isArray(body.media_urls) ? body.media_urls.filter((item): item is string => typeof item === "string") : [];
    if (!to) return fail(400, "10004", "The 'to' parameter is required.", "/to");
    if (!from) return fail(400, "10004", "The 'from' parameter is required when no messaging_profile_id is given.", "/from");
    if (!text && mediaUrls.length === 0) return fail(400, "10004", "The 'text' parameter is required for SMS.", "/text");
    if (mediaUrls.length > 10) return fail(400, "10015", "At most 10 media_urls may be given.", "/media_urls");
    if (!account.numbers.has(from)) return fail(400, "40305", "The 'from' address should be a number of your account that is enabled for messaging.", "/from");
    if (!/^(\+[1-9]\d{6,14}|\d{3,6})$/.test(to)) return fail(400, "40310", "The 'to' address should be a single valid number.", "/to");
    const refusal = this.refusals.get(to);
    if (refusal) return fail(400, refusal, TITLES[refusal] ?? `Error ${refusal}`, "/to");
    const message: TelnyxMessage = {
      id: randomUUID(),
      account,
      from,
      to,
      text,
      mediaUrls,
      webhookUrl: typeof body.webhook_url === "string" ? body.webhook_url : "",
      status: "queued",
      fetchedMedia: [],
    };
    this.messages.push(message);
    reply(200, { data: this.messagePayload(message) });
    // Like Telnyx, fetch the media of an MMS after accepting it.
    for (const mediaUrl of mediaUrls) void this.fetchMedia(message, mediaUrl);
    if (this.autoStatus && message.webhookUrl) void this.postStatus(message.id, this.autoStatus).catch(() => undefined);
  }

  /** POST /v2/messages/group_mms: from, to (one to eight numbers), text and/or media_urls. */
  private createGroupMessage(
    account: TelnyxAccount,
    body: Record<string, unknown>,
    reply: (status: number, payload: unknown) => void,
    fail: (status: number, code: string, detail: string, pointer?: string) => void,
  ): void {
    const from = typeof body.from === "string" ? body.from : "";
    const text = typeof body.text === "string" ? body.text : "";
    const mediaUrls = Array.isArray(body.media_urls) ? body.media_urls.filter((item): item is string => typeof item === "string") : [];
    if (!from) return fail(400, "10004", "The 'from' parameter is required.", "/from");
    if (!Array.isArray(body.to) || body.to.length === 0) return fail(400, "10004", "The 'to' parameter is required and must list destinations.", "/to");
    if (body.to.length > 8) return fail(400, "10015", "No more than 8 destinations are allowed.", "/to");
    if (!text && mediaUrls.length === 0) return fail(400, "10004", "The 'text' or 'media_urls' parameter is required.", "/text");
    if (mediaUrls.length > 10) return fail(400, "10015", "At most 10 media_urls may be given.", "/media_urls");
    if (!account.numbers.has(from)) return fail(400, "40305", "The 'from' address should be a number of your account that is enabled for messaging.", "/from");
    const to: string[] = [];
    for (const entry of body.to) {
      if (typeof entry !== "string" || !/^\+1[2-9]\d{9}$/.test(entry))
        return fail(400, "40310", "Each 'to' address should be a valid US or Canadian number.", "/to");
      if (to.includes(entry)) return fail(400, "10015", "The 'to' addresses must be distinct.", "/to");
      const refusal = this.refusals.get(entry);
      if (refusal) return fail(400, refusal, TITLES[refusal] ?? `Error ${refusal}`, "/to");
      to.push(entry);
    }
    const message: TelnyxGroupMessage = {
      id: randomUUID(),
      account,
      from,
      to,
      text,
      mediaUrls,
      webhookUrl: typeof body.webhook_url === "string" ? body.webhook_url : "",
    };
    this.groupMessages.push(message);
    const number = account.numbers.get(from);
    reply(200, {
      data: {
        record_type: "message",
        direction: "outbound",
        id: message.id,
        type: "MMS",
        messaging_profile_id: number?.messagingProfileId ?? null,
        organization_id: account.organizationId,
        from: { phone_number: from, carrier: "TELNYX LLC", line_type: "VoIP" },
        to: to.map((phoneNumber) => ({ phone_number: phoneNumber, status: "queued", carrier: "T-MOBILE USA, INC.", line_type: "Wireless" })),
        cc: [],
        text,
        subject: null,
        media: mediaUrls.map((url) => ({ url, content_type: null, sha256: null, size: null })),
        webhook_url: message.webhookUrl,
        webhook_failover_url: "",
        encoding: "GSM-7",
        parts: 1,
        tags: [],
        cost: null,
        received_at: iso(),
        sent_at: null,
        completed_at: null,
        valid_until: iso(new Date(Date.now() + 3_600_000)),
        errors: [],
      },
    });
  }

  async waitForGroupMessages(count: number, timeoutMs = 10_000): Promise<TelnyxGroupMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.groupMessages.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} group messages at the Telnyx stand-in, have ${this.groupMessages.length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.groupMessages;
  }

  private async fetchMedia(message: TelnyxMessage, mediaUrl: string): Promise<void> {
    try {
      assertLoopback(mediaUrl);
      const response = await fetch(mediaUrl, { signal: AbortSignal.timeout(10_000) });
      message.fetchedMedia.push({ url: mediaUrl, status: response.status, bytes: Buffer.from(await response.arrayBuffer()) });
    } catch {
      message.fetchedMedia.push({ url: mediaUrl, status: 0, bytes: Buffer.alloc(0) });
    }
  }

  private numberJson(account: TelnyxAccount, number: TelnyxNumber): Record<string, unknown> {
    const profile = number.messagingProfileId ? account.profiles.get(number.messagingProfileId) : undefined;
    return {
      id: number.id,
      record_type: "phone_number",
      phone_number: number.phoneNumber,
      status: "active",
      tags: [],
      external_pin: null,
      connection_id: null,
      connection_name: null,
      customer_reference: null,
      messaging_profile_id: number.messagingProfileId,
      messaging_profile_name: profile?.name ?? null,
      billing_group_id: null,
      emergency_enabled: false,
      emergency_address_id: null,
      call_forwarding_enabled: true,
      cnam_listing_enabled: false,
      caller_id_name_enabled: false,
      call_recording_enabled: false,
      t38_fax_gateway_enabled: false,
      phone_number_type: "local",
      purchased_at: iso(),
      created_at: iso(),
      updated_at: iso(),
    };
  }
}

function profileJson(profile: TelnyxProfile): Record<string, unknown> {
  return {
    record_type: "messaging_profile",
    id: profile.id,
    name: profile.name,
    enabled: true,
    webhook_url: profile.webhookUrl,
    webhook_failover_url: null,
    webhook_api_version: "2",
    whitelisted_destinations: ["US"],
    created_at: iso(),
    updated_at: iso(),
  };
}

export async function startTelnyxStandin(): Promise<TelnyxStandin> {
  const standin = new TelnyxStandin();
  await standin.start();
  return standin;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") throw new Error(`the Telnyx stand-in talks to loopback only, not ${host}`);
}
