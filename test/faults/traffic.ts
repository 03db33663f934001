// Messages both ways at once, at a steady pace, while a scenario breaks something: texts from a
// Jabber user to Twilio, webhooks from Twilio, and mails delivered into the user's mailbox by LMTP.
// Webhooks go to whichever instance answers /readyz with 200, as a load balancer watching it would
// send them, or to every instance in turn, and are posted again until one answers 200, as Twilio
// retries. What a client had
// bounced (the server while no instance held the domain, the gateway while it could not store),
// the user sends again once the service is back.
import nodemailer from "nodemailer";
import twilio from "twilio";
import type { TestClient } from "../support/xmpp-client.js";
import { xml } from "../support/xmpp-client.js";
import { bodies, pool, sameIdCopies } from "./flow.js";
import type { GatewayProcess } from "./gateway-process.js";
import { tally, type Tally } from "./ledger.js";
import { emailJid, mailAddress, NUMBER, phoneJid, type World } from "./world.js";

export const ROMEO_PHONE = "+14155550123";

export interface TrafficOptions {
  /** Distinguishes this run's messages from an earlier one's (bodies, ids, MessageSids). */
  tag: string;
  /** Messages per stream. */
  n: number;
  /** Each stream releases one message every `intervalMs`. */
  intervalMs: number;
  /** Called once `faultAt` of each stream has been released; what it resolves with goes in the notes. */
  fault: () => Promise<void>;
  faultAt?: number;
  /** `ready`: webhooks go to the instance that answers /readyz with 200; `any`: to every instance
   *  in turn (a standby keeps them for the holder), the next one when one does not answer 200. */
  webhooksTo?: "ready" | "any";
  /** Streams to leave out. */
  without?: Array<"texts out" | "webhooks" | "mails in" | "mails out">;
}

export interface TrafficResult {
  textsOut?: Tally;
  webhooks?: Tally;
  mailsIn?: Tally;
  mailsOut?: Tally;
  /** Client messages bounced with an error and sent again, and webhooks answered other than 200. */
  bounced: number;
  /** The index of each stream's message released when the fault began, and how many go out a second. */
  faultIndex: number;
  perSecond: number;
  refusedWebhooks: number;
}

/** Posts a webhook to `gateway` as Twilio does through a load balancer: signed over the public URL
 *  when the instances have one, else over the instance's own. The HTTP status, 0 if none came. */
export async function postWebhook(w: World, gateway: GatewayProcess, params: Record<string, string>): Promise<number> {
  const direct = w.webhookUrl(gateway);
  const publicUrl = (gateway.config.http as { publicUrl?: string }).publicUrl;
  const signedUrl = publicUrl ? `${publicUrl}${new URL(direct).pathname}` : direct;
  const signature = twilio.getExpectedTwilioSignature(w.operator.authToken, signedUrl, params);
  return fetch(direct, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature, "user-agent": "TwilioProxy/1.1" },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(30_000),
  }).then(
    async (response) => {
      await response.arrayBuffer();
      return response.status;
    },
    () => 0,
  );
}

/** The instance a load balancer would send to: the first that answers /readyz with 200. */
async function readyInstance(gateways: GatewayProcess[]): Promise<GatewayProcess | undefined> {
  for (const gateway of gateways) if (await gateway.answers("/readyz")) return gateway;
  return undefined;
}

export async function runTraffic(w: World, juliet: TestClient, options: TrafficOptions): Promise<TrafficResult> {
  const { tag, n, intervalMs } = options;
  const streams = new Set(["texts out", "webhooks", "mails in", "mails out"].filter((name) => !options.without?.includes(name as never)));
  const textKeys = Array.from({ length: n }, (_, i) => `${tag} text out ${i}`);
  const webhookKeys = Array.from({ length: n }, (_, i) => `${tag} webhook ${i}`);
  const mailInKeys = Array.from({ length: n }, (_, i) => `${tag} mail in ${i}`);
  const mailOutKeys = Array.from({ length: n }, (_, i) => `${tag} mail out ${i}`);
  const sms = phoneJid(ROMEO_PHONE);
  const romeoMail = mailAddress("romeo");
  const mailJid = emailJid(romeoMail);
  const twilioBefore = w.twilio.messages.length;
  const relayBefore = w.relay.received.length;
  const t0 = Date.now();
  const due = (i: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + i * intervalMs - Date.now())));
  const faultIndex = Math.floor(n * (options.faultAt ?? 0.3));
  let refusedWebhooks = 0;
  let target: GatewayProcess | undefined = w.gateway;
  const hash = [...tag].reduce((sum, char) => (sum * 31 + char.charCodeAt(0)) >>> 0, 7);

  const fault = (async () => {
    await due(faultIndex);
    await options.fault();
  })();
  const textIdPrefix = `${tag}-t-`;
  const mailIdPrefix = `${tag}-m-`;
  const sendText = (i: number) => juliet.send(xml("message", { to: sms, type: "chat", id: `${textIdPrefix}${i}` }, xml("body", {}, textKeys[i]!)));
  const sendMail = (i: number) => juliet.send(xml("message", { to: mailJid, type: "chat", id: `${mailIdPrefix}${i}` }, xml("body", {}, mailOutKeys[i]!)));
  const lmtp = nodemailer.createTransport({
    host: "127.0.0.1",
    port: w.dovecot.lmtpPort,
    lmtp: true,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 4,
  });

  await Promise.all([
    streams.has("texts out") &&
      (async () => {
        for (let i = 0; i < n; i += 1) {
          await due(i);
          await sendText(i);
        }
      })(),
    streams.has("mails out") &&
      (async () => {
        for (let i = 0; i < n; i += 1) {
          await due(i);
          await sendMail(i);
        }
      })(),
    streams.has("webhooks") &&
      pool(n, 10, async (i) => {
        await due(i);
        const messageSid = `SM${hash.toString(16).padStart(8, "0")}${i.toString(16).padStart(24, "0")}`;
        let turn = i;
        for (const deadline = Date.now() + 180_000; Date.now() < deadline; turn += 1) {
          const to = options.webhooksTo === "any" ? w.gateways[turn % w.gateways.length] : target;
          const status = to
            ? await postWebhook(w, to, {
                MessageSid: messageSid,
                SmsSid: messageSid,
                AccountSid: w.operator.sid,
                From: ROMEO_PHONE,
                To: NUMBER,
                Body: webhookKeys[i]!,
                NumMedia: "0",
              })
            : 0;
          if (status === 200) return;
          refusedWebhooks += 1;
          await new Promise((resolve) => setTimeout(resolve, 250)); // Twilio retries a failed webhook
          if (options.webhooksTo !== "any") target = await readyInstance(w.gateways);
        }
      }),
    streams.has("mails in") &&
      pool(n, 4, async (i) => {
        await due(i);
        await lmtp.sendMail({
          envelope: { from: romeoMail, to: [mailAddress("juliet")] },
          from: romeoMail,
          to: mailAddress("juliet"),
          subject: `${tag} ${i}`,
          text: mailInKeys[i]!,
          messageId: `<${tag}-${i}@mail.example.test>`,
        });
      }),
  ]);
  lmtp.close();
  await fault;

  // The service is back: what the client had bounced, the user sends again.
  const isError = (prefix: string) => (stanza: { attrs: Record<string, string | undefined> }) =>
    stanza.attrs.type === "error" && (stanza.attrs.id ?? "").startsWith(prefix);
  const bouncedTexts = new Set(juliet.received.filter(isError(textIdPrefix)).map((stanza) => Number(stanza.attrs.id!.slice(textIdPrefix.length))));
  const bouncedMails = new Set(juliet.received.filter(isError(mailIdPrefix)).map((stanza) => Number(stanza.attrs.id!.slice(mailIdPrefix.length))));
  if (bouncedTexts.size + bouncedMails.size > 0) await readyInstance(w.gateways);
  for (const i of bouncedTexts) await sendText(i);
  for (const i of bouncedMails) await sendMail(i);

  const texts = () => w.twilio.messages.slice(twilioBefore).map((message) => message.body);
  const relayed = async () => {
    const { simpleParser } = await import("mailparser");
    return Promise.all(w.relay.received.slice(relayBefore).map(async (mail) => simpleParser(mail.raw)));
  };
  let mailsOut: Array<{ text: string; id: string }> = [];
  const done = () =>
    (!streams.has("texts out") || new Set(texts()).size >= n) &&
    (!streams.has("webhooks") || new Set(bodies(juliet, sms)).size >= n) &&
    (!streams.has("mails in") || new Set(bodies(juliet, mailJid)).size >= n) &&
    (!streams.has("mails out") || new Set(mailsOut.map((mail) => mail.text)).size >= n);
  // Up to 3 minutes for the rest to arrive; a minute without any progress ends the wait sooner.
  const progress = () => texts().length + bodies(juliet, sms).length + bodies(juliet, mailJid).length + mailsOut.length;
  let last = -1;
  let lastChange = Date.now();
  for (const deadline = Date.now() + 180_000; Date.now() < deadline && Date.now() - lastChange < 60_000; ) {
    if (streams.has("mails out")) mailsOut = (await relayed()).map((mail) => ({ text: mail.text?.trim() ?? "", id: mail.messageId ?? "" }));
    if (done()) break;
    if (progress() !== last) [last, lastChange] = [progress(), Date.now()];
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // late copies, if any
  if (streams.has("mails out")) mailsOut = (await relayed()).map((mail) => ({ text: mail.text?.trim() ?? "", id: mail.messageId ?? "" }));
  const mailOutIds = mailsOut.filter((mail) => mailOutKeys.includes(mail.text)).map((mail) => mail.id);

  return {
    bounced: bouncedTexts.size + bouncedMails.size,
    faultIndex,
    perSecond: Math.ceil(1_000 / intervalMs),
    refusedWebhooks,
    ...(streams.has("texts out") && { textsOut: tally("", textKeys, texts()) }),
    ...(streams.has("webhooks") && { webhooks: tally("", webhookKeys, bodies(juliet, sms), { doubledSameId: sameIdCopies(juliet, sms, webhookKeys) }) }),
    ...(streams.has("mails in") && { mailsIn: tally("", mailInKeys, bodies(juliet, mailJid), { doubledSameId: sameIdCopies(juliet, mailJid, mailInKeys) }) }),
    ...(streams.has("mails out") && {
      mailsOut: tally(
        "",
        mailOutKeys,
        mailsOut.map((mail) => mail.text),
        { doubledSameId: mailOutIds.length - new Set(mailOutIds).size },
      ),
    }),
  };
}

/**
 * Outgoing messages a kill -9 may lose without the gateway being at fault: XEP-0114 has no
 * acknowledgements, so stanzas the server had already written into the killed process's socket,
 * which it never read, are gone, and the server does not bounce them. They can only be those the
 * client released in the last moment before the kill: each lost one must be within a second of
 * the fault, and fewer than a second's worth. Anything else lost is the gateway's fault.
 */
export function lostInFlight(missing: readonly string[], result: Pick<TrafficResult, "faultIndex" | "perSecond">): { inFlight: number; elsewhere: string[] } {
  const elsewhere = missing.filter((key) => {
    const index = Number(/(\d+)$/.exec(key)?.[1] ?? Number.NaN);
    return !(Math.abs(index - result.faultIndex) <= result.perSecond);
  });
  return { inFlight: missing.length - elsewhere.length, elsewhere };
}

/** Whether each component domain is online on some instance (after a restart the instances may
 *  share the domains out, so that no single one answers /readyz with 200). */
export async function everyDomainOnline(gateways: GatewayProcess[]): Promise<boolean> {
  const online = new Set<string>();
  const all = new Set<string>();
  for (const gateway of gateways) {
    const health = await fetch(`http://127.0.0.1:${gateway.httpPort}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.json() as Promise<{ links?: Record<string, string> }>,
      () => undefined,
    );
    for (const [domain, state] of Object.entries(health?.links ?? {})) {
      all.add(domain);
      if (state === "online") online.add(domain);
    }
  }
  return all.size > 0 && [...all].every((domain) => online.has(domain));
}
