// A local stand-in for Twilio's REST API (2010-04-01) and its webhooks, for tests: the same paths,
// form fields, JSON shapes, Basic auth and numbered errors as Twilio documents, on loopback only.
// Tests tell it to fail requests, refuse numbers and post status callbacks or inbound texts,
// which it signs exactly as Twilio does.
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
  private readonly refusals = new Map<string, number>();
  private readonly media = new Map<string, StoredMedia>();
  /** Per coming request: 0 handles it, otherwise the HTTP status to fail it with. */
  private failures: number[] = [];
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
    const account = { sid, authToken, numbers: new Map<string, StandinNumber>() };
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
    this.failures.push(...Array.from({ length: skip }, () => 0), ...Array.from({ length: count }, () => status));
  }

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
      res.writeHead(status, { "content-type": contentType, "twilio-request-id": newSid("RQ") });
      res.end(Buffer.isBuffer(body) ? body : JSON.stringify(body));
    };
    const fail = (status: number, code: number, message: string): void =>
      reply(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

    const failure = this.failures.shift();
    if (failure === 429) return fail(429, 20429, "Too Many Requests");
    if (failure) return fail(failure, 20500, "An internal server error has occurred");

    const match = /^\/2010-04-01\/Accounts\/([^/.]+)(\/.*)?$/.exec(url.pathname.replace(/\.json$/, ""));
    const account = this.authenticate(req, match?.[1]);
    if (!account) return fail(401, 20003, "Authenticate");
    const rest = (url.pathname.slice(`${API}/Accounts/${account.sid}`.length) || "").replace(/\.json$/, "");
    const method = req.method ?? "GET";
    const one = (name: string): string => form[name]?.[0] ?? "";

    if (rest === "" && method === "GET") return reply(200, accountJson(account));
    if (rest === "/Messages" && method === "POST") return this.createMessage(account, form, reply, fail);
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
      fetchedMedia: [],
    };
    this.messages.push(message);
    reply(201, messageJson(message));
    // Like Twilio, fetch the media of an MMS after accepting it.
    for (const mediaUrl of mediaUrls) void this.fetchMedia(message, mediaUrl);
    if (this.autoStatus && message.statusCallback) void this.postStatus(message.sid, this.autoStatus).catch(() => undefined);
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
    date_created: rfc2822(),
    date_sent: null,
    date_updated: rfc2822(),
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
