// The Twilio SDK's own HTTP client (axios), with every Twilio host aimed at the stand-in: what an
// application using the SDK as it comes would send through.
import twilio from "twilio";

export function stockClientAt(baseUrl: string, timeoutMs: number): InstanceType<typeof twilio.RequestClient> {
  const base = baseUrl.replace(/\/$/, "");
  const client = new twilio.RequestClient({ timeout: timeoutMs, autoRetry: false });
  const request = client.request.bind(client);
  client.request = (opts) => {
    const target = new URL(opts.uri);
    return request({ ...opts, uri: `${base}${target.pathname}${target.search}` });
  };
  return client;
}
