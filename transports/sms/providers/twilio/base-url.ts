// Aims the Twilio SDK at another base URL (an API proxy, or the test stand-in): the SDK's public
// extension point is its HTTP client, so this one rewrites each request's origin.
import twilio from "twilio";

type RequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>["request"]>[0];

export function createBaseUrlRequestClient(baseUrl: string, timeoutMs: number): InstanceType<typeof twilio.RequestClient> {
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/$/, "");
  const client = new twilio.RequestClient({ timeout: timeoutMs, autoRetry: false });
  if (base.origin === "https://api.twilio.com" && !prefix) return client;
  const request = client.request.bind(client);
  client.request = <T>(opts: RequestOptions) => {
    const target = new URL(opts.uri);
    // Every Twilio API host (api., messaging., …) ends in twilio.com; anything else is left alone.
    if (target.hostname.endsWith(".twilio.com")) opts = { ...opts, uri: `${base.origin}${prefix}${target.pathname}${target.search}` };
    return request<T>(opts as never);
  };
  return client;
}
