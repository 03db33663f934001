// A real Prosody, the gateway with the real SMS transport, and the Twilio stand-in behind it.
import { startHarness, DOMAIN, type Harness } from "../support/harness.js";
import { registrationForm } from "../support/register.js";
import { startTwilioStandin, type StandinAccount, type TwilioStandin } from "../support/twilio-standin.js";
import { xml, type Element, type TestClient } from "../support/xmpp-client.js";

export const SMS = "sms.example.test";
export { DOMAIN };

export interface SmsHarness {
  h: Harness;
  twilio: TwilioStandin;
  operator: StandinAccount;
  numbers: string[];
  stop(): Promise<void>;
}

export interface SmsHarnessOptions {
  numbers?: string[];
  ownAccounts?: boolean;
  /** false: no operator account, so users bring their own. */
  operator?: boolean;
  extra?: Record<string, unknown>;
  config?: (config: Record<string, unknown>) => void;
}

/** Prosody and the gateway with the SMS transport on `provider`'s options; the stand-in is stopped
 *  if they fail to start. */
export async function startSmsGateway(standin: { stop(): Promise<void> }, provider: Record<string, unknown>, options: SmsHarnessOptions): Promise<Harness> {
  try {
    return await startHarness({
      ...(options.config && { config: options.config }),
      transports: {
        sms: {
          domain: SMS,
          options: {
            defaultRegion: "US",
            messagesPerSecond: 50,
            statusGraceMs: 200,
            ...provider,
            ...(options.ownAccounts && { ownAccounts: true }),
            ...options.extra,
          },
        },
      },
    });
  } catch (error) {
    await standin.stop();
    throw error;
  }
}

export async function startSmsHarness(options: SmsHarnessOptions = {}): Promise<SmsHarness> {
  const twilio = await startTwilioStandin();
  const operator = twilio.addAccount();
  const numbers = options.numbers ?? ["+14155550100", "+14155550101"];
  for (const number of numbers) twilio.addNumber(operator, number);
  const h = await startSmsGateway(
    twilio,
    {
      apiBaseUrl: twilio.baseUrl,
      ...(options.operator !== false && { operator: { accountSid: operator.sid, authToken: operator.authToken, numbers } }),
    },
    options,
  );
  // Twilio posts to the number's SmsUrl; an operator sets it once in the console, as here.
  for (const number of operator.numbers.values()) number.smsUrl = incomingUrl(h);
  return {
    h,
    twilio,
    operator,
    numbers,
    async stop() {
      await h.stop();
      await twilio.stop();
    },
  };
}

export const incomingUrl = (h: Harness): string => `http://127.0.0.1:${h.gateway.httpPort}/sms/${SMS}/incoming`;
export const statusUrl = (h: Harness): string => `http://127.0.0.1:${h.gateway.httpPort}/sms/${SMS}/status`;

export const phoneJid = (number: string): string => `${number}@${SMS}`;

export function registerSms(client: TestClient, values: Record<string, string>): Promise<Element> {
  return client.iq(xml("iq", { type: "set", to: SMS }, xml("query", { xmlns: "jabber:iq:register" }, registrationForm(values))), 15_000);
}

/** Registers with the SMS gateway and completes the roster handshake, as a client's user would. */
export async function joinSms(client: TestClient, values: Record<string, string>): Promise<void> {
  const reply = await registerSms(client, values);
  if (reply.attrs.type !== "result") throw new Error(`registration failed: ${reply.toString()}`);
  await client.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribe" && stanza.attrs.from === SMS);
  await client.send(xml("presence", { to: SMS, type: "subscribed" }));
}

export function chat(to: string, body: string, id: string, ...children: Element[]): Element {
  return xml("message", { to, type: "chat", id }, xml("body", {}, body), ...children);
}

export const bodyFrom =
  (from: string) =>
  (stanza: Element): boolean =>
    stanza.name === "message" && stanza.attrs.from === from && stanza.attrs.type !== "error" && stanza.getChild("body") !== undefined;
