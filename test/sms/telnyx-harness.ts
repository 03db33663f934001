// A real Prosody, the gateway with the real SMS transport set to Telnyx, and the Telnyx stand-in behind it.
import type { Harness } from "../support/harness.js";
import { startTelnyxStandin, type TelnyxAccount, type TelnyxStandin } from "../support/telnyx-standin.js";
import { incomingUrl, startSmsGateway, type SmsHarnessOptions } from "./sms-harness.js";

export interface TelnyxHarness {
  h: Harness;
  telnyx: TelnyxStandin;
  operator: TelnyxAccount;
  numbers: string[];
  stop(): Promise<void>;
}

export async function startTelnyxHarness(options: SmsHarnessOptions = {}): Promise<TelnyxHarness> {
  const telnyx = await startTelnyxStandin();
  const operator = telnyx.addAccount();
  const numbers = options.numbers ?? ["+14155550100", "+14155550101"];
  for (const number of numbers) telnyx.addNumber(operator, number);
  const h = await startSmsGateway(
    telnyx,
    {
      provider: "telnyx",
      apiBaseUrl: telnyx.baseUrl,
      // The stand-in's media storage is on loopback.
      allowPrivateMediaHosts: true,
      ...(options.operator !== false && { operator: { apiKey: operator.apiKey, publicKey: operator.publicKey, numbers } }),
    },
    options,
  );
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
