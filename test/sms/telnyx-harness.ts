// A real Prosody, the gateway with the real SMS transport set to Telnyx, and the Telnyx stand-in behind it.
import { startHarness, type Harness } from "../support/harness.js";
import { startTelnyxStandin, type TelnyxAccount, type TelnyxStandin } from "../support/telnyx-standin.js";
import { incomingUrl, SMS } from "./sms-harness.js";

export interface TelnyxHarness {
  h: Harness;
  telnyx: TelnyxStandin;
  operator: TelnyxAccount;
  numbers: string[];
  stop(): Promise<void>;
}

export async function startTelnyxHarness(
  options: {
    numbers?: string[];
    ownAccounts?: boolean;
    operator?: boolean;
    extra?: Record<string, unknown>;
    config?: (config: Record<string, unknown>) => void;
  } = {},
): Promise<TelnyxHarness> {
  const telnyx = await startTelnyxStandin();
  const operator = telnyx.addAccount();
  const numbers = options.numbers ?? ["+14155550100", "+14155550101"];
  for (const number of numbers) telnyx.addNumber(operator, number);
  let h: Harness;
  try {
    h = await startHarness({
      ...(options.config && { config: options.config }),
      transports: {
        sms: {
          domain: SMS,
          options: {
            provider: "telnyx",
            apiBaseUrl: telnyx.baseUrl,
            // The stand-in's media storage is on loopback.
            allowPrivateMediaHosts: true,
            defaultRegion: "US",
            messagesPerSecond: 50,
            statusGraceMs: 200,
            ...(options.operator !== false && { operator: { apiKey: operator.apiKey, publicKey: operator.publicKey, numbers } }),
            ...(options.ownAccounts && { ownAccounts: true }),
            ...options.extra,
          },
        },
      },
    });
  } catch (error) {
    await telnyx.stop();
    throw error;
  }
  // Telnyx posts to the messaging profile's webhook URL; an operator sets it once in the portal, as here.
  operator.profile.webhookUrl = incomingUrl(h);
  return {
    h,
    telnyx,
    operator,
    numbers,
    async stop() {
      await h.stop();
      await telnyx.stop();
    },
  };
}
