// The HTTP client the Twilio SDK sends its requests through (the SDK's documented extension point).
// The SDK's own client runs each request through axios, which cost the gateway as much CPU per
// text as everything else it does (docs/performance.md); this one sends the same request over
// undici's connection pool. Requests it does not cover (token auth strategies, JSON bodies,
// nested form fields, an HTTP proxy from the environment) go through the SDK's client unchanged.
// It can also aim every Twilio host at another base URL: an API proxy, or the tests' stand-in.
import twilio from "twilio";
import { Agent, type Dispatcher } from "undici";

type RequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>["request"]>[0];
type SdkResponse<T> = Awaited<ReturnType<InstanceType<typeof twilio.RequestClient>["request"]>> & { body: T };
type Field = string | number | boolean;

/** Twilio's answers are small JSON documents; anything larger is not an answer from Twilio. */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const FORM = "application/x-www-form-urlencoded";

export function createTwilioHttpClient(baseUrl: string, timeoutMs: number): InstanceType<typeof twilio.RequestClient> {
  return new TwilioHttpClient(baseUrl, timeoutMs);
}

/** Aims a URL on a Twilio host at `baseUrl` instead: every Twilio API host (api., messaging.,
 *  conversations., …) ends in twilio.com; other URLs, and all when `baseUrl` is Twilio's own, are left alone. */
export function aimAt(baseUrl: string): (uri: string) => string {
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/$/, "");
  if (base.origin === "https://api.twilio.com" && !prefix) return (uri) => uri;
  return (uri) => {
    const target = new URL(uri);
    return target.hostname.endsWith(".twilio.com") ? `${base.origin}${prefix}${target.pathname}${target.search}` : uri;
  };
}

class TwilioHttpClient extends twilio.RequestClient {
  private readonly aimed: (uri: string) => string;
  private readonly timeoutMs: number;
  private readonly pool: Dispatcher;
  /** The SDK's own client honours these (as it reads them when made): with either set, it sends. */
  private readonly sdkSends = Boolean(process.env.HTTP_PROXY || process.env.TWILIO_CA_BUNDLE);

  constructor(baseUrl: string, timeoutMs: number) {
    super({ timeout: timeoutMs, autoRetry: false });
    this.aimed = aimAt(baseUrl);
    this.timeoutMs = timeoutMs;
    this.pool = new Agent({ connections: 20, keepAliveTimeout: 30_000 });
  }

  override request<T>(opts: RequestOptions): Promise<SdkResponse<T>> {
    const uri = this.aimed(opts.uri);
    const form = formOf(opts);
    if (!form || !opts.username || !opts.password || this.sdkSends) {
      return super.request<T>({ ...opts, uri } as never) as Promise<SdkResponse<T>>;
    }
    return this.send<T>(opts, uri, form);
  }

  private async send<T>(opts: RequestOptions, uri: string, form: { query: string; body: string | undefined }): Promise<SdkResponse<T>> {
    const target = new URL(uri);
    const path = `${target.pathname}${target.search}${form.query ? `${target.search ? "&" : "?"}${form.query}` : ""}`;
    const headers: Record<string, string> = { ...(opts.headers as Record<string, string> | undefined) };
    headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString("base64")}`;
    const timeout = opts.timeout ?? this.timeoutMs;
    const answer = await this.pool.request({
      origin: target.origin,
      path,
      method: opts.method.toUpperCase() as Dispatcher.HttpMethod,
      headers,
      body: form.body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const body = await readText(answer.body);
    return { statusCode: answer.statusCode, body: body as T, headers: answer.headers };
  }
}

/** The request's query and form body, or undefined when it is not a plain form the SDK would send. */
function formOf(opts: RequestOptions): { query: string; body: string | undefined } | undefined {
  const query = encoded(opts.params);
  if (query === undefined) return undefined;
  if (opts.data === undefined || opts.data === null) return { query, body: undefined };
  const type = (opts.headers as Record<string, string> | undefined)?.["Content-Type"];
  if (type !== FORM) return undefined;
  const body = encoded(opts.data);
  return body === undefined ? undefined : { query, body };
}

/** Fields as the SDK's client encodes them (a list repeats its name); undefined for anything nested. */
function encoded(fields: unknown): string | undefined {
  if (fields === undefined || fields === null) return "";
  if (typeof fields !== "object") return undefined;
  const out = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (!isField(item)) return undefined;
      out.append(name, String(item));
    }
  }
  return out.toString();
}

function isField(value: unknown): value is Field {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

async function readText(body: Dispatcher.ResponseData["body"]): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      throw new Error(`the answer was larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
