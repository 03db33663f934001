// Kit drivers for the SMS transport, one per provider: the provider's stand-in (test/support/) is
// the network, with the gateway's operator numbers; juliet texts from the first, romeo from the second.
import { randomBytes, randomUUID } from "node:crypto";
import { incomingUrl, SMS, startSmsHarness } from "../sms/sms-harness.js";
import { startTelnyxHarness } from "../sms/telnyx-harness.js";
import type { KitDriver, KitWorld } from "./transport-kit.js";

/** Posts a webhook as a provider does: when no gateway answers (it is stopped), posts it again, with
 *  the same message id, every 100 ms until one does, as Telnyx retries its webhooks (Twilio falls back to a second URL, which a
 *  standby instance answers). Resolves after the first try; the retries run on in the background. */
function postUntilTaken(post: () => Promise<number>, stopped: () => boolean): Promise<void> {
  const attempt = async (): Promise<boolean> => {
    try {
      const status = await post();
      if (status >= 400 && status < 500) throw new Error(`the gateway refused a webhook with ${status}`);
      return status < 400;
    } catch (error) {
      if ((error as Error).message.startsWith("the gateway refused")) throw error;
      return false;
    }
  };
  return attempt().then((taken) => {
    if (taken) return;
    void (async () => {
      while (!stopped()) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (await attempt().catch(() => true)) return;
      }
    })();
  });
}

const common = (numbers: string[]) => ({
  domain: SMS,
  account: (user: "juliet" | "romeo") => ({ number: numbers[user === "juliet" ? 0 : 1]! }),
  // A number the gateway does not hold: the transport refuses it.
  wrongAccount: () => ({ number: "+14155559999" }),
  peer: (n: number) => `+1415555${String(200 + n).padStart(4, "0")}`,
});

export const twilioDriver: KitDriver = {
  name: "SMS through Twilio",
  receipts: true,
  async start(): Promise<KitWorld> {
    const s = await startSmsHarness();
    let stopped = false;
    return {
      h: s.h,
      ...common(s.numbers),
      carried: async (peer) => s.twilio.messages.filter((message) => message.to === peer).map((message) => ({ id: message.sid, body: message.body })),
      send(peer, user, body) {
        const messageSid = `SM${randomBytes(16).toString("hex")}`;
        return postUntilTaken(
          async () =>
            (await s.twilio.sendInbound({ accountSid: s.operator.sid, from: peer, to: common(s.numbers).account(user).number, body, messageSid })).status,
          () => stopped,
        );
      },
      reportDelivered: async (message) => void (await s.twilio.postStatus(message.id, "delivered")),
      async restarted() {
        for (const number of s.operator.numbers.values()) number.smsUrl = incomingUrl(s.h);
      },
      async stop() {
        stopped = true;
        await s.stop();
      },
    };
  },
};

export const telnyxDriver: KitDriver = {
  name: "SMS through Telnyx",
  receipts: true,
  async start(): Promise<KitWorld> {
    const s = await startTelnyxHarness();
    let stopped = false;
    return {
      h: s.h,
      ...common(s.numbers),
      carried: async (peer) => s.telnyx.messages.filter((message) => message.to === peer).map((message) => ({ id: message.id, body: message.text })),
      send(peer, user, body) {
        const id = randomUUID();
        return postUntilTaken(
          async () => (await s.telnyx.sendInbound({ account: s.operator, from: peer, to: common(s.numbers).account(user).number, text: body, id })).status,
          () => stopped,
        );
      },
      reportDelivered: async (message) => void (await s.telnyx.postStatus(message.id, "delivered")),
      async restarted() {
        s.operator.profile.webhookUrl = incomingUrl(s.h);
      },
      async stop() {
        stopped = true;
        await s.stop();
      },
    };
  },
};
