// A local stand-in for Twilio's REST API (2010-04-01) and its webhooks, for tests: the same paths,
// form fields, JSON shapes, Basic auth and numbered errors as Twilio documents, on loopback only.
// Tests tell it to fail requests, refuse numbers and post status callbacks or inbound texts,
// which it signs exactly as Twilio does. It also stands in for the part of the Conversations API
// (v1) that group texts use: conversations, participants (group MMS: members by Address, a Twilio
// number as ProjectedAddress), messages, conversation-scoped webhooks, ParticipantConversations and
// the Media Content Service; and it posts Conversations webhooks (onMessageAdded, onDeliveryUpdated)
// to the account's global webhook and each conversation's own, as Twilio does.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import twilio from "twilio";

export interface StandinNumber {
  sid: string;
  phoneNumber: string;
  smsUrl: string;
  smsMethod: string;
  statusCallback: string;
}

export interface StandinAccount {
  sid: string;
  authToken: string;
  numbers: Map<string, StandinNumber>;
  /** The account's default Conversation Service (IS…). */
  chatServiceSid: string;
  /** Conversations > Global webhooks: the post-event URL ("" when none is set), and its filters. */
  conversationsWebhookUrl: string;
  conversationsWebhookFilters: string[];
}

export interface StandinParticipant {
  sid: string;
  identity: string | null;
  address: string | null;
  proxyAddress: string | null;
  projectedAddress: string | null;
}

export interface StandinConversationMessage {
  sid: string;
  index: number;
  author: string;
  body: string;
  participantSid: string | null;
  media: Array<{ sid: string; contentType: string; filename: string; size: number }>;
}

export interface StandinConversation {
  sid: string;
  accountSid: string;
  chatServiceSid: string;
  friendlyName: string | null;
  uniqueName: string | null;
  state: "active" | "inactive" | "closed";
  /** Made by Twilio for a group text that matched no conversation (autocreation). */
  autocreated: boolean;
  participants: StandinParticipant[];
  messages: StandinConversationMessage[];
  webhooks: Array<{ sid: string; target: string; url: string; method: string; filters: string[] }>;
}

export interface StandinMessage {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  mediaUrls: string[];
  statusCallback: string;
  status: string;
  errorCode: number | null;
  numSegments: number;
  createdAt: Date;
  /** What the stand-in got when it fetched each MediaUrl, as Twilio does for MMS. */
  fetchedMedia: Array<{ url: string; status: number; contentType: string; bytes: Buffer }>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  form: Record<string, string[]>;
  status: number;
}

interface StoredMedia {
  contentType: string;
  data: Buffer;
}

const API = "/2010-04-01";
const hex = (bytes: number): string => randomBytes(bytes).toString("hex");
export const newSid = (prefix: string): string => `${prefix}${hex(16)}`;

export class TwilioStandin {
  readonly accounts = new Map<string, StandinAccount>();
  readonly messages: StandinMessage[] = [];
  readonly requests: RecordedRequest[] = [];
  /** Conversations by SID; a test may delete one to have Twilio forget it. */
  readonly conversations = new Map<string, StandinConversation>();
  private readonly conversationMedia = new Map<string, StoredMedia & { serviceSid: string; accountSid: string; filename: string }>();
  private readonly directMedia = new Map<string, string>();
  private readonly refusals = new Map<string, number>();
  private readonly media = new Map<string, StoredMedia>();
  /** Coming requests' fates, in order: a request takes the first entry it fits (one without a
   *  method and path fits any), and fails with its status; status 0 lets it through. */
  private failures: Array<{ status: number; method?: string; path?: RegExp }> = [];
  private server: Server | null = null;
  private port = 0;

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
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

  addAccount(sid = newSid("AC"), authToken = hex(16)): StandinAccount {
    const account: StandinAccount = {
      sid,
      authToken,
      numbers: new Map<string, StandinNumber>(),
      chatServiceSid: newSid("IS"),
      conversationsWebhookUrl: "",
      conversationsWebhookFilters: ["onMessageAdded", "onDeliveryUpdated"],
    };
    this.accounts.set(sid, account);
    return account;
  }

  addNumber(account: StandinAccount, phoneNumber: string): StandinNumber {
    const number = { sid: newSid("PN"), phoneNumber, smsUrl: "", smsMethod: "POST", statusCallback: "" };
    account.numbers.set(phoneNumber, number);
    return number;
  }

  /** After `skip` requests are handled normally, the next `count` answer `status` (429 or 5xx) instead. */
  failNext(count: number, status: 429 | 500 | 503, skip = 0): void {
    this.failures.push(...Array.from({ length: skip }, () => ({ status: 0 })), ...Array.from({ length: count }, () => ({ status })));
  }

  /** The next `count` requests of `method` to a path matching `path` answer `status` instead. */
  failMatching(count: number, method: string, path: RegExp, status: 403 | 429 | 500 | 503): void {
    this.failures.push(...Array.from({ length: count }, () => ({ status, method, path })));
  }

  /** The next `count` texts sent are created, but the connection is cut before the answer: the
   *  gateway cannot tell whether Twilio has them. */
  loseAnswers(count: number): void {
    this.answersToLose += count;
  }

  private answersToLose = 0;

  /** Media downloads wait this long before they are answered, like a slow carrier store. */
  mediaDelayMs = 0;

  private mediaGate: Promise<void> | null = null;

  /** Media downloads wait until the returned function is called (a test controls exactly when they finish). */
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

  /** Posts this status callback for every new message as soon as it is accepted, as a fast carrier would. */
  autoStatus: "delivered" | null = null;

  /** Sends to this number are refused at once with this Twilio error code (21211, 21610, 21408, 21614…). */
  refuse(to: string, code: number): void {
    this.refusals.set(to, code);
  }

  /** Media a test's inbound MMS points at; Twilio serves it under the message, behind Basic auth. */
  storeMedia(accountSid: string, messageSid: string, contentType: string, data: Buffer): string {
    const path = `${API}/Accounts/${accountSid}/Messages/${messageSid}/Media/${newSid("ME")}`;
    this.media.set(path, { contentType, data });
    return `${this.baseUrl}${path}`;
  }

  async waitForMessages(count: number, timeoutMs = 10_000): Promise<StandinMessage[]> {
    await waitUntil(
      () => this.messages.length >= count,
      timeoutMs,
      () => `expected ${count} messages at the Twilio stand-in, have ${this.messages.length}`,
    );
    return this.messages;
  }

  /** Moves a message to `status` and posts its status callback as Twilio does. Returns the HTTP status the gateway answered. */
  async postStatus(sid: string, status: "sent" | "delivered" | "undelivered" | "failed", errorCode?: number): Promise<number> {
    const message = this.messages.find((candidate) => candidate.sid === sid);
    if (!message) throw new Error(`the stand-in sent no message ${sid}`);
    message.status = status;
    message.errorCode = errorCode ?? null;
    const account = this.accounts.get(message.accountSid)!;
    const params: Record<string, string> = {
      SmsSid: sid,
      SmsStatus: status,
      MessageStatus: status,
      To: message.to,
      MessageSid: sid,
      AccountSid: message.accountSid,
      From: message.from,
      ApiVersion: "2010-04-01",
      ...(errorCode !== undefined && { ErrorCode: String(errorCode) }),
    };
    return (await this.postSigned(message.statusCallback, account.authToken, params)).status;
  }

  /** Posts an inbound text to the number's SmsUrl, with Twilio's fields and signature. */
  async sendInbound(input: {
    accountSid: string;
    from: string;
    to: string;
    body: string;
    media?: Array<{ contentType: string; data: Buffer }>;
    messageSid?: string;
    optOutType?: "STOP" | "START" | "HELP";
    /** Post here instead of the number's SmsUrl. */
    url?: string;
    signature?: "valid" | "forged" | "missing";
  }): Promise<{ status: number; text: string; messageSid: string; params: Record<string, string> }> {
    const account = this.accounts.get(input.accountSid);
    if (!account) throw new Error(`no account ${input.accountSid}`);
    const url = input.url ?? account.numbers.get(input.to)?.smsUrl;
    if (!url) throw new Error(`number ${input.to} has no SmsUrl`);
    const messageSid = input.messageSid ?? newSid(input.media?.length ? "MM" : "SM");
    const mediaUrls = (input.media ?? []).map((item) => this.storeMedia(account.sid, messageSid, item.contentType, item.data));
    const params: Record<string, string> = {
      ToCountry: "US",
      ToState: "CA",
      SmsMessageSid: messageSid,
      NumMedia: String(mediaUrls.length),
      ToCity: "",
      FromZip: "",
      SmsSid: messageSid,
      FromState: "",
      SmsStatus: "received",
      FromCity: "",
      Body: input.body,
      FromCountry: "US",
      To: input.to,
      ToZip: "",
      NumSegments: String(segmentsOf(input.body)),
      MessageSid: messageSid,
      AccountSid: account.sid,
      From: input.from,
      ApiVersion: "2010-04-01",
      ...Object.fromEntries(
        mediaUrls.flatMap((mediaUrl, index) => [
          [`MediaUrl${index}`, mediaUrl],
          [`MediaContentType${index}`, input.media![index]!.contentType],
        ]),
      ),
      ...(input.optOutType && { OptOutType: input.optOutType }),
    };
    const token = input.signature === "forged" ? hex(16) : account.authToken;
    const result = await this.postSigned(url, token, params, input.signature === "missing");
    return { ...result, messageSid, params };
  }

  /** A group text from `from` to the account's number `to` and `others`, as Twilio handles one: it goes
   *  into the active conversation whose Addresses and ProjectedAddresses are exactly those numbers, or
   *  (autocreation) into a new one with `to` as projected address; then onMessageAdded is posted,
   *  signed, to the conversation's own webhooks and the account's global one. */
  async groupInbound(input: {
    accountSid: string;
    from: string;
    to: string;
    others: string[];
    body: string;
    media?: Array<{ contentType: string; data: Buffer }>;
    signature?: "valid" | "forged" | "missing";
  }): Promise<{ statuses: number[]; conversationSid: string; messageSid: string }> {
    const account = this.accounts.get(input.accountSid);
    if (!account) throw new Error(`no account ${input.accountSid}`);
    const wanted = [...new Set([input.from, input.to, ...input.others])].sort();
    let conversation = [...this.conversations.values()].find(
      (candidate) => candidate.accountSid === account.sid && candidate.state !== "closed" && sameNumbers(numbersOf(candidate), wanted),
    );
    if (!conversation) {
      conversation = this.newConversation(account, { friendlyName: null, uniqueName: null }, true);
      for (const number of wanted) conversation.participants.push(participantOf(number === input.to ? { projectedAddress: number } : { address: number }));
    }
    const author = conversation.participants.find((participant) => participant.address === input.from);
    const message: StandinConversationMessage = {
      sid: newSid("IM"),
      index: conversation.messages.length,
      author: input.from,
      body: input.body,
      participantSid: author?.sid ?? null,
      media: (input.media ?? []).map((item, index) => {
        const sid = newSid("ME");
        this.conversationMedia.set(sid, { ...item, serviceSid: conversation.chatServiceSid, accountSid: account.sid, filename: `${index}.bin` });
        return { sid, contentType: item.contentType, filename: `${index}.bin`, size: item.data.length };
      }),
    };
    conversation.messages.push(message);
    const params: Record<string, string> = {
      AccountSid: account.sid,
      EventType: "onMessageAdded",
      ConversationSid: conversation.sid,
      ChatServiceSid: conversation.chatServiceSid,
      MessageSid: message.sid,
      Index: String(message.index),
      DateCreated: new Date().toISOString(),
      Body: message.body,
      Author: message.author,
      ...(message.participantSid && { ParticipantSid: message.participantSid }),
      Attributes: "{}",
      ...(message.media.length > 0 && {
        Media: JSON.stringify(message.media.map((item) => ({ Sid: item.sid, Filename: item.filename, ContentType: item.contentType, Size: item.size }))),
      }),
    };
    const statuses = await this.postConversationEvent(account, conversation, params, input.signature ?? "valid");
    return { statuses, conversationSid: conversation.sid, messageSid: message.sid };
  }

  /** A member's delivery receipt for a conversation message the gateway sent (onDeliveryUpdated). */
  async postDelivery(messageSid: string, status: "sent" | "delivered" | "undelivered" | "failed", errorCode?: number): Promise<number[]> {
    const conversation = [...this.conversations.values()].find((candidate) => candidate.messages.some((message) => message.sid === messageSid));
    if (!conversation) throw new Error(`no conversation message ${messageSid}`);
    const account = this.accounts.get(conversation.accountSid)!;
    const member = conversation.participants.find((participant) => participant.address);
    const params: Record<string, string> = {
      AccountSid: account.sid,
      EventType: "onDeliveryUpdated",
      ConversationSid: conversation.sid,
      ChatServiceSid: conversation.chatServiceSid,
      MessageSid: messageSid,
      DeliveryReceiptSid: newSid("DY"),
      ChannelMessageSid: newSid("MM"),
      ParticipantSid: member?.sid ?? newSid("MB"),
      Status: status,
      ErrorCode: String(errorCode ?? 0),
      DateCreated: new Date().toISOString(),
      DateUpdated: new Date().toISOString(),
    };
    return this.postConversationEvent(account, conversation, params, "valid");
  }

  /** Posts a Conversations event where Twilio would: the conversation's own webhooks, then the global one. */
  private async postConversationEvent(
    account: StandinAccount,
    conversation: StandinConversation,
    params: Record<string, string>,
    signature: "valid" | "forged" | "missing",
  ): Promise<number[]> {
    const event = params.EventType!;
    const targets = [
      ...conversation.webhooks.filter((webhook) => webhook.target === "webhook" && webhook.filters.includes(event)).map((webhook) => webhook.url),
      ...(account.conversationsWebhookUrl && account.conversationsWebhookFilters.includes(event) ? [account.conversationsWebhookUrl] : []),
    ];
    const token = signature === "forged" ? hex(16) : account.authToken;
    const statuses: number[] = [];
    for (const url of targets) statuses.push((await this.postSigned(url, token, params, signature === "missing")).status);
    return statuses;
  }

  /** A form POST signed with `authToken` over `url` (X-Twilio-Signature). */
  async postSigned(url: string, authToken: string, params: Record<string, string>, unsigned = false): Promise<{ status: number; text: string }> {
    assertLoopback(url);
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", "user-agent": "TwilioProxy/1.1" };
    if (!unsigned) headers["x-twilio-signature"] = twilio.getExpectedTwilioSignature(authToken, url, params);
    // Twilio itself waits 15 s; tests on a loaded machine get more, as the point is what arrives.
    const response = await fetch(url, { method: "POST", headers, body: new URLSearchParams(params).toString(), signal: AbortSignal.timeout(30_000) });
    return { status: response.status, text: await response.text() };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.baseUrl);
    const form = await readForm(req);
    const record: RecordedRequest = { method: req.method ?? "GET", path: url.pathname, form, status: 0 };
    this.requests.push(record);
    const reply = (status: number, body: unknown, contentType = "application/json"): void => {
      record.status = status;
      if (this.answersToLose > 0 && req.method === "POST" && url.pathname.endsWith("/Messages.json") && status === 201) {
        this.answersToLose -= 1;
        res.socket?.destroy();
        return;
      }
      res.writeHead(status, { "content-type": contentType, "twilio-request-id": newSid("RQ") });
      res.end(Buffer.isBuffer(body) ? body : JSON.stringify(body));
    };
    const fail = (status: number, code: number, message: string): void =>
      reply(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

    const fate = this.failures.findIndex((entry) => (!entry.method || entry.method === req.method) && (!entry.path || entry.path.test(url.pathname)));
    const failure = fate >= 0 ? this.failures.splice(fate, 1)[0]!.status : 0;
    if (failure === 403) return fail(403, 20403, "Forbidden");
    if (failure === 429) return fail(429, 20429, "Too Many Requests");
    if (failure) return fail(failure, 20500, "An internal server error has occurred");

    // The Media Content Service's short-lived links are signed themselves, and need no credentials.
    const direct = /^\/mcs-direct\/(ME\w+)$/.exec(url.pathname);
    if (direct && req.method === "GET") {
      const stored = this.conversationMedia.get(direct[1]!);
      if (!stored || this.directMedia.get(direct[1]!) !== url.searchParams.get("Signature")) return fail(403, 20403, "Forbidden");
      return reply(200, stored.data, stored.contentType);
    }

    const match = /^\/2010-04-01\/Accounts\/([^/.]+)(\/.*)?$/.exec(url.pathname.replace(/\.json$/, ""));
    const account = this.authenticate(req, match?.[1]);
    if (!account) return fail(401, 20003, "Authenticate");
    if (url.pathname.startsWith("/v1/")) return this.conversationsApi(account, req.method ?? "GET", url, form, reply, fail);
    const rest = (url.pathname.slice(`${API}/Accounts/${account.sid}`.length) || "").replace(/\.json$/, "");
    const method = req.method ?? "GET";
    const one = (name: string): string => form[name]?.[0] ?? "";

    if (rest === "" && method === "GET") return reply(200, accountJson(account));
    if (rest === "/Messages" && method === "POST") return this.createMessage(account, form, reply, fail);
    if (rest === "/Messages" && method === "GET") return reply(200, this.listMessages(account, url));
    const messageMatch = /^\/Messages\/(\w+)$/.exec(rest);
    if (messageMatch && method === "GET") {
      const message = this.messages.find((candidate) => candidate.sid === messageMatch[1] && candidate.accountSid === account.sid);
      return message ? reply(200, messageJson(message)) : fail(404, 20404, `The requested resource ${url.pathname} was not found`);
    }
    if (rest.startsWith("/Messages/") && rest.includes("/Media/") && method === "GET") {
      const stored = this.media.get(url.pathname);
      if (!stored) return fail(404, 20404, `The requested resource ${url.pathname} was not found`);
      if (this.mediaDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.mediaDelayMs));
      if (this.mediaGate) await this.mediaGate;
      return reply(200, stored.data, stored.contentType);
    }
    if (rest === "/IncomingPhoneNumbers" && method === "GET") {
      const wanted = url.searchParams.get("PhoneNumber");
      const numbers = [...account.numbers.values()].filter((number) => !wanted || number.phoneNumber === wanted);
      const pageSize = Number(url.searchParams.get("PageSize") ?? "50");
      const uri = `${API}/Accounts/${account.sid}/IncomingPhoneNumbers.json${url.search}`;
      return reply(200, {
        first_page_uri: uri,
        end: Math.max(0, Math.min(numbers.length, pageSize) - 1),
        previous_page_uri: null,
        incoming_phone_numbers: numbers.slice(0, pageSize).map((number) => numberJson(account, number)),
        uri,
        page_size: pageSize,
        start: 0,
        next_page_uri: null,
        page: 0,
      });
    }
    const numberMatch = /^\/IncomingPhoneNumbers\/(PN\w+)$/.exec(rest);
    if (numberMatch) {
      const number = [...account.numbers.values()].find((candidate) => candidate.sid === numberMatch[1]);
      if (!number) return fail(404, 20404, `The requested resource ${url.pathname} was not found`);
      if (method === "POST") {
        if ("SmsUrl" in form) number.smsUrl = one("SmsUrl");
        if ("SmsMethod" in form) number.smsMethod = one("SmsMethod");
        if ("StatusCallback" in form) number.statusCallback = one("StatusCallback");
      }
      return reply(200, numberJson(account, number));
    }
    return fail(404, 20404, `The requested resource ${url.pathname} was not found`);
  }

  /** conversations.twilio.com/v1 and mcs.us1.twilio.com/v1, as far as group texts use them. */
  private conversationsApi(
    account: StandinAccount,
    method: string,
    url: URL,
    form: Record<string, string[]>,
    reply: (status: number, body: unknown, contentType?: string) => void,
    fail: (status: number, code: number, message: string) => void,
  ): void {
    const path = url.pathname;
    const one = (name: string): string | null => form[name]?.[0] ?? null;
    const notFound = (): void => fail(404, 20404, `The requested resource ${path} was not found`);

    const media = /^\/v1\/Services\/(IS\w+)\/Media\/(ME\w+)$/.exec(path);
    if (media && method === "GET") {
      const stored = this.conversationMedia.get(media[2]!);
      if (!stored || stored.serviceSid !== media[1] || stored.accountSid !== account.sid) return notFound();
      const signature = hex(16);
      this.directMedia.set(media[2]!, signature);
      return reply(200, {
        sid: media[2],
        service_sid: media[1],
        account_sid: account.sid,
        date_created: new Date().toISOString(),
        date_upload_completed: new Date().toISOString(),
        channel_sid: null,
        message_sid: null,
        size: stored.data.length,
        content_type: stored.contentType,
        filename: stored.filename,
        author: "system",
        category: "media",
        is_multipart_upstream: false,
        url: `https://mcs.us1.twilio.com/v1/Services/${media[1]}/Media/${media[2]}`,
        links: {
          content: `/v1/Services/${media[1]}/Media/${media[2]}/Content`,
          content_direct_temporary: `${this.baseUrl}/mcs-direct/${media[2]}?Expires=${Math.floor(Date.now() / 1000) + 300}&Signature=${signature}`,
        },
      });
    }

    if (path === "/v1/ParticipantConversations" && method === "GET") {
      const address = url.searchParams.get("Address");
      const rows = [...this.conversations.values()].flatMap((conversation) =>
        conversation.accountSid !== account.sid
          ? []
          : conversation.participants
              .filter((participant) => address && participant.address === address)
              .map((participant) => participantConversationJson(conversation, participant)),
      );
      return reply(200, pageJson("conversations", path, url, rows));
    }

    if (path === "/v1/Conversations" && method === "POST") {
      const uniqueName = one("UniqueName");
      if (uniqueName && [...this.conversations.values()].some((conversation) => conversation.uniqueName === uniqueName))
        return fail(409, 50353, "Conversation with provided unique name already exists");
      return reply(201, conversationJson(this.newConversation(account, { friendlyName: one("FriendlyName"), uniqueName }, false)));
    }

    const match = /^\/v1\/Conversations\/([^/]+)(\/[A-Za-z]+)?$/.exec(path);
    const conversation = match
      ? [...this.conversations.values()].find(
          (candidate) => candidate.accountSid === account.sid && (candidate.sid === match[1] || candidate.uniqueName === match[1]),
        )
      : undefined;
    if (!match || !conversation) return notFound();
    const sub = match[2] ?? "";

    if (sub === "" && method === "GET") return reply(200, conversationJson(conversation));
    if (sub === "" && method === "DELETE") {
      this.conversations.delete(conversation.sid);
      return reply(204, Buffer.alloc(0));
    }
    if (sub === "/Participants" && method === "GET")
      return reply(
        200,
        pageJson(
          "participants",
          path,
          url,
          conversation.participants.map((item) => participantJson(conversation, item)),
        ),
      );
    if (sub === "/Participants" && method === "POST") {
      const address = one("MessagingBinding.Address");
      const projectedAddress = one("MessagingBinding.ProjectedAddress");
      const proxyAddress = one("MessagingBinding.ProxyAddress");
      const identity = one("Identity");
      if (!address && !projectedAddress && !identity) return fail(400, 50411, "Participant address is empty");
      for (const number of [address, projectedAddress, proxyAddress]) {
        if (number !== null && !/^\+[1-9]\d{6,14}$/.test(number)) return fail(400, 50407, `Invalid messaging binding address: ${number}`);
      }
      const refusal = address ? this.refusals.get(address) : undefined;
      if (refusal !== undefined && refusal >= 50000) return fail(400, refusal, `Error ${refusal} for ${address}`);
      if (
        conversation.participants.some(
          (participant) =>
            (address && participant.address === address && !proxyAddress) || (projectedAddress && participant.projectedAddress === projectedAddress),
        )
      )
        return fail(409, 50437, "Group Participant already exists");
      const added = participantOf({ address, projectedAddress, proxyAddress, identity });
      const after = [...conversation.participants, added];
      const grouped = after.some((participant) => participant.projectedAddress);
      if (grouped && after.filter((participant) => participant.address || participant.projectedAddress).length > 10)
        return fail(400, 50436, "Participant limit exceeded for group conversation");
      const numbers = numbersOf({ ...conversation, participants: after });
      const twin = [...this.conversations.values()].find(
        (other) =>
          other !== conversation &&
          other.accountSid === account.sid &&
          other.state !== "closed" &&
          numbers.length >= 3 &&
          sameNumbers(numbersOf(other), numbers),
      );
      if (grouped && twin) return fail(409, 50438, "Group conversation with given participant list already exists");
      conversation.participants.push(added);
      return reply(201, participantJson(conversation, added));
    }
    if (sub === "/Messages" && method === "POST") {
      const author = one("Author") ?? "system";
      const body = one("Body") ?? "";
      const grouped = conversation.participants.some((participant) => participant.projectedAddress);
      const participant = conversation.participants.find(
        (candidate) => candidate.identity === author || candidate.address === author || candidate.projectedAddress === author,
      );
      if (grouped && !participant) return fail(400, 50513, "Message author should be among Group MMS participants.");
      if (body.length > 1600) return fail(400, 50511, "Message body is too long.");
      const message: StandinConversationMessage = {
        sid: newSid("IM"),
        index: conversation.messages.length,
        author,
        body,
        participantSid: participant?.sid ?? null,
        media: [],
      };
      conversation.messages.push(message);
      return reply(201, conversationMessageJson(conversation, message));
    }
    if (sub === "/Webhooks" && method === "POST") {
      const webhook = {
        sid: newSid("WH"),
        target: one("Target") ?? "",
        url: one("Configuration.Url") ?? "",
        method: (one("Configuration.Method") ?? "post").toUpperCase(),
        filters: form["Configuration.Filters"] ?? [],
      };
      if (webhook.target === "webhook" && !webhook.url) return fail(400, 50313, "Configuration.Url is required for a webhook target");
      conversation.webhooks.push(webhook);
      return reply(201, {
        account_sid: account.sid,
        conversation_sid: conversation.sid,
        sid: webhook.sid,
        target: webhook.target,
        configuration: { url: webhook.url, method: webhook.method.toLowerCase(), filters: webhook.filters },
        date_created: new Date().toISOString(),
        date_updated: new Date().toISOString(),
        url: `https://conversations.twilio.com/v1/Conversations/${conversation.sid}/Webhooks/${webhook.sid}`,
      });
    }
    return notFound();
  }

  private newConversation(
    account: StandinAccount,
    names: { friendlyName: string | null; uniqueName: string | null },
    autocreated: boolean,
  ): StandinConversation {
    const conversation: StandinConversation = {
      sid: newSid("CH"),
      accountSid: account.sid,
      chatServiceSid: account.chatServiceSid,
      ...names,
      state: "active",
      autocreated,
      participants: [],
      messages: [],
      webhooks: [],
    };
    this.conversations.set(conversation.sid, conversation);
    return conversation;
  }

  private createMessage(
    account: StandinAccount,
    form: Record<string, string[]>,
    reply: (status: number, body: unknown) => void,
    fail: (status: number, code: number, message: string) => void,
  ): void {
    const to = form.To?.[0] ?? "";
    const from = form.From?.[0] ?? "";
    const body = form.Body?.[0] ?? "";
    const mediaUrls = form.MediaUrl ?? [];
    if (!to) return fail(400, 21604, "A 'To' phone number is required.");
    if (!from) return fail(400, 21603, "A 'From' phone number is required.");
    if (!body && mediaUrls.length === 0) return fail(400, 21602, "Message body is required.");
    if (body.length > 1600) return fail(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
    if (mediaUrls.length > 10) return fail(400, 21623, "Number of media files exceeds allowed limit.");
    if (!account.numbers.has(from))
      return fail(400, 21606, `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`);
    if (!/^(\+[1-9]\d{6,14}|\d{3,6})$/.test(to)) return fail(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    const refusal = this.refusals.get(to);
    if (refusal !== undefined) {
      const messages: Record<number, string> = {
        21211: `Invalid 'To' Phone Number: ${to}`,
        21408: `Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${to}.`,
        21610: "Attempt to send to unsubscribed recipient",
        21614: `'To' number ${to} is not a valid mobile number`,
      };
      return fail(400, refusal, messages[refusal] ?? `Error ${refusal}`);
    }
    const message: StandinMessage = {
      sid: newSid(mediaUrls.length > 0 ? "MM" : "SM"),
      accountSid: account.sid,
      from,
      to,
      body,
      mediaUrls,
      statusCallback: form.StatusCallback?.[0] ?? "",
      status: "queued",
      errorCode: null,
      numSegments: segmentsOf(body),
      createdAt: new Date(),
      fetchedMedia: [],
    };
    this.messages.push(message);
    reply(201, messageJson(message));
    // Like Twilio, fetch the media of an MMS after accepting it.
    for (const mediaUrl of mediaUrls) void this.fetchMedia(message, mediaUrl);
    if (this.autoStatus && message.statusCallback) void this.postStatus(message.sid, this.autoStatus).catch(() => undefined);
  }

  /** Read a Message list: filtered by To and From, newest first, paged by Page and PageSize, with
   *  the relative page URIs the 2010-04-01 API answers. */
  private listMessages(account: StandinAccount, url: URL): unknown {
    const to = url.searchParams.get("To");
    const from = url.searchParams.get("From");
    const pageSize = Math.min(1_000, Math.max(1, Number(url.searchParams.get("PageSize") ?? "50") || 50));
    const page = Math.max(0, Number(url.searchParams.get("Page") ?? "0") || 0);
    const found = this.messages
      .filter((message) => message.accountSid === account.sid && (!to || message.to === to) && (!from || message.from === from))
      .reverse();
    const base = `${API}/Accounts/${account.sid}/Messages.json`;
    const pageUri = (number: number): string => {
      const query = new URLSearchParams({ ...(to && { To: to }), ...(from && { From: from }), PageSize: String(pageSize), Page: String(number) });
      if (number > 0) query.set("PageToken", `PASM${hex(16)}`);
      return `${base}?${query}`;
    };
    const items = found.slice(page * pageSize, (page + 1) * pageSize);
    return {
      messages: items.map(messageJson),
      end: page * pageSize + Math.max(0, items.length - 1),
      first_page_uri: pageUri(0),
      next_page_uri: (page + 1) * pageSize < found.length ? pageUri(page + 1) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      start: page * pageSize,
      uri: pageUri(page),
    };
  }

  private async fetchMedia(message: StandinMessage, mediaUrl: string): Promise<void> {
    try {
      assertLoopback(mediaUrl);
      const response = await fetch(mediaUrl, { signal: AbortSignal.timeout(10_000) });
      message.fetchedMedia.push({
        url: mediaUrl,
        status: response.status,
        contentType: response.headers.get("content-type") ?? "",
        bytes: Buffer.from(await response.arrayBuffer()),
      });
    } catch {
      message.fetchedMedia.push({ url: mediaUrl, status: 0, contentType: "", bytes: Buffer.alloc(0) });
    }
  }

  private authenticate(req: IncomingMessage, pathSid: string | undefined): StandinAccount | undefined {
    const header = req.headers.authorization ?? "";
    if (!header.startsWith("Basic ")) return undefined;
    const [sid, token] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":");
    const account = sid ? this.accounts.get(sid) : undefined;
    if (!account || account.authToken !== token || (pathSid && pathSid !== sid)) return undefined;
    return account;
  }
}

export async function startTwilioStandin(): Promise<TwilioStandin> {
  const standin = new TwilioStandin();
  await standin.start();
  return standin;
}

/** GSM-7 texts take 160 characters in one segment and 153 per segment beyond; others 70 and 67. */
function segmentsOf(body: string): number {
  const gsm = /^[\n\r -_a-zA-Z0-9!"#$%&'()*+,./:;<=>?@£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà]*$/.test(body);
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  return body.length <= single ? 1 : Math.ceil(body.length / multi);
}

function rfc2822(date = new Date()): string {
  return date.toUTCString().replace("GMT", "+0000");
}

function accountJson(account: StandinAccount): unknown {
  const uri = `${API}/Accounts/${account.sid}.json`;
  return {
    status: "active",
    date_updated: rfc2822(),
    auth_token: account.authToken,
    friendly_name: "Stand-in account",
    owner_account_sid: account.sid,
    uri,
    sid: account.sid,
    date_created: rfc2822(),
    type: "Full",
    subresource_uris: {
      messages: `${API}/Accounts/${account.sid}/Messages.json`,
      incoming_phone_numbers: `${API}/Accounts/${account.sid}/IncomingPhoneNumbers.json`,
    },
  };
}

function messageJson(message: StandinMessage): unknown {
  return {
    account_sid: message.accountSid,
    api_version: "2010-04-01",
    body: message.body,
    date_created: rfc2822(message.createdAt),
    date_sent: null,
    date_updated: rfc2822(message.createdAt),
    direction: "outbound-api",
    error_code: message.errorCode,
    error_message: null,
    from: message.from,
    messaging_service_sid: null,
    num_media: String(message.mediaUrls.length),
    num_segments: String(message.numSegments),
    price: null,
    price_unit: "USD",
    sid: message.sid,
    status: message.status,
    subresource_uris: { media: `${API}/Accounts/${message.accountSid}/Messages/${message.sid}/Media.json` },
    to: message.to,
    uri: `${API}/Accounts/${message.accountSid}/Messages/${message.sid}.json`,
  };
}

function numberJson(account: StandinAccount, number: StandinNumber): unknown {
  return {
    account_sid: account.sid,
    api_version: "2010-04-01",
    capabilities: { voice: true, sms: true, mms: true, fax: false },
    date_created: rfc2822(),
    date_updated: rfc2822(),
    friendly_name: number.phoneNumber,
    phone_number: number.phoneNumber,
    sid: number.sid,
    sms_method: number.smsMethod,
    sms_url: number.smsUrl,
    status_callback: number.statusCallback,
    status_callback_method: "POST",
    status: "in-use",
    uri: `${API}/Accounts/${account.sid}/IncomingPhoneNumbers/${number.sid}.json`,
  };
}

const CONVERSATIONS = "https://conversations.twilio.com/v1";

function participantOf(binding: {
  address?: string | null;
  projectedAddress?: string | null;
  proxyAddress?: string | null;
  identity?: string | null;
}): StandinParticipant {
  return {
    sid: newSid("MB"),
    identity: binding.identity ?? null,
    address: binding.address ?? null,
    proxyAddress: binding.proxyAddress ?? null,
    projectedAddress: binding.projectedAddress ?? null,
  };
}

/** The numbers Twilio matches a group text against: every Address and ProjectedAddress, sorted. */
function numbersOf(conversation: Pick<StandinConversation, "participants">): string[] {
  return [
    ...new Set(
      conversation.participants.flatMap((participant) => [participant.address, participant.projectedAddress].filter((number): number is string => !!number)),
    ),
  ].sort();
}

function sameNumbers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((number, index) => number === b[index]);
}

function conversationJson(conversation: StandinConversation): unknown {
  const url = `${CONVERSATIONS}/Conversations/${conversation.sid}`;
  return {
    sid: conversation.sid,
    account_sid: conversation.accountSid,
    chat_service_sid: conversation.chatServiceSid,
    messaging_service_sid: null,
    friendly_name: conversation.friendlyName,
    unique_name: conversation.uniqueName,
    attributes: "{}",
    date_created: new Date().toISOString(),
    date_updated: new Date().toISOString(),
    state: conversation.state,
    timers: {},
    bindings: null,
    url,
    links: { participants: `${url}/Participants`, messages: `${url}/Messages`, webhooks: `${url}/Webhooks`, export: `${url}/Export` },
  };
}

function bindingJson(participant: StandinParticipant): unknown {
  if (!participant.address && !participant.projectedAddress) return null;
  return {
    type: "sms",
    ...(participant.address && { address: participant.address }),
    ...(participant.proxyAddress && { proxy_address: participant.proxyAddress }),
    ...(participant.projectedAddress && { projected_address: participant.projectedAddress }),
  };
}

function participantJson(conversation: StandinConversation, participant: StandinParticipant): unknown {
  return {
    account_sid: conversation.accountSid,
    conversation_sid: conversation.sid,
    sid: participant.sid,
    identity: participant.identity,
    attributes: "{}",
    messaging_binding: bindingJson(participant),
    role_sid: null,
    date_created: new Date().toISOString(),
    date_updated: new Date().toISOString(),
    url: `${CONVERSATIONS}/Conversations/${conversation.sid}/Participants/${participant.sid}`,
    last_read_message_index: null,
    last_read_timestamp: null,
  };
}

function participantConversationJson(conversation: StandinConversation, participant: StandinParticipant): unknown {
  return {
    account_sid: conversation.accountSid,
    chat_service_sid: conversation.chatServiceSid,
    participant_sid: participant.sid,
    participant_user_sid: null,
    participant_identity: participant.identity,
    participant_messaging_binding: bindingJson(participant),
    conversation_sid: conversation.sid,
    conversation_unique_name: conversation.uniqueName,
    conversation_friendly_name: conversation.friendlyName,
    conversation_attributes: "{}",
    conversation_date_created: new Date().toISOString(),
    conversation_date_updated: new Date().toISOString(),
    conversation_created_by: "system",
    conversation_state: conversation.state,
    conversation_timers: {},
    links: {
      participant: `${CONVERSATIONS}/Conversations/${conversation.sid}/Participants/${participant.sid}`,
      conversation: `${CONVERSATIONS}/Conversations/${conversation.sid}`,
    },
  };
}

function conversationMessageJson(conversation: StandinConversation, message: StandinConversationMessage): unknown {
  const url = `${CONVERSATIONS}/Conversations/${conversation.sid}/Messages/${message.sid}`;
  const recipients = conversation.participants.filter((participant) => participant.address && participant.address !== message.author).length;
  return {
    account_sid: conversation.accountSid,
    conversation_sid: conversation.sid,
    sid: message.sid,
    index: message.index,
    author: message.author,
    body: message.body,
    media:
      message.media.length > 0
        ? message.media.map((item) => ({ sid: item.sid, size: item.size, content_type: item.contentType, filename: item.filename, category: "media" }))
        : null,
    attributes: "{}",
    participant_sid: message.participantSid,
    date_created: new Date().toISOString(),
    date_updated: new Date().toISOString(),
    url,
    delivery: { total: recipients, sent: "all", delivered: "none", read: "none", failed: "none", undelivered: "none" },
    links: { delivery_receipts: `${url}/Receipts`, channel_metadata: `${url}/ChannelMetadata` },
    content_sid: null,
  };
}

/** A page of a Conversations list: the records under `key`, and meta naming it (one page only). */
function pageJson(key: string, path: string, url: URL, records: unknown[]): unknown {
  const pageSize = Number(url.searchParams.get("PageSize") ?? "50");
  const here = `https://conversations.twilio.com${path}?PageSize=${pageSize}&Page=0`;
  return {
    meta: { page: 0, page_size: pageSize, first_page_url: here, previous_page_url: null, url: here, next_page_url: null, key },
    [key]: records.slice(0, pageSize),
  };
}

async function readForm(req: IncomingMessage): Promise<Record<string, string[]>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const form: Record<string, string[]> = {};
  for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString("utf8"))) (form[key] ??= []).push(value);
  return form;
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") throw new Error(`the Twilio stand-in talks to loopback only, not ${host}`);
}

export async function waitUntil(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
