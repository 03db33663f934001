// The sms section of switchboard.yaml, checked once at start. `provider` chooses whose API carries
// the texts; a section without it is a Twilio one, as before there was a choice.
import { isSupportedCountry, type CountryCode } from "libphonenumber-js";
import { z } from "zod";

const ownedNumber = z.string().regex(/^(\+[1-9]\d{5,14}|\d{3,6})$/, "must be an E.164 number such as +14155550123 or a short code");
const numbers = z.array(ownedNumber).min(1, "list at least one number the account owns");

/** A Telnyx webhook public key: 32 bytes of Ed25519 key, base64 as the portal shows it. */
export const TELNYX_PUBLIC_KEY = /^[A-Za-z0-9+/]{43}=$/;

const common = {
  /** Region for numbers written without a country code, e.g. "(415) 555-0123" with US. */
  defaultRegion: z
    .string()
    .transform((value) => value.toUpperCase())
    .refine((value) => isSupportedCountry(value), "must be a two-letter country code such as US or GB")
    .transform((value) => value as CountryCode)
    .default("US" as CountryCode),
  /** The public base URL the provider posts webhooks to, when it differs from http.publicUrl. */
  publicUrl: z.url().optional(),
  /** Let users register their own account and number ("bring your own"). */
  ownAccounts: z.boolean().default(false),
  /** Most texts one user may send per day (UTC); a long message counts once per text it becomes. */
  dailyTextsPerUser: z.number().int().positive().optional(),
  /** Texts per second from one sender number (providers queue beyond their own limit, then fail). */
  messagesPerSecond: z.number().positive().default(1),
  maxWebhookBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** Largest inbound MMS attachment the gateway fetches (Twilio's own limit is 5 MB). */
  maxMediaBytes: z
    .number()
    .int()
    .positive()
    .default(5 * 1024 * 1024),
  /** A status that outruns the send's own bookkeeping waits this long before it is reported. */
  statusGraceMs: z.number().int().min(0).default(1_000),
};

const twilioSection = z.strictObject({
  provider: z.literal("twilio"),
  ...common,
  /** Where the Twilio API lives; only changed for an API proxy or a test stand-in. */
  apiBaseUrl: z.url().default("https://api.twilio.com"),
  /** The operator's own Twilio account and the numbers it lends to users. */
  operator: z
    .strictObject({
      accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be a Twilio Account SID (AC followed by 32 hex digits)"),
      authToken: z.string().min(1, "must be the account's Auth Token"),
      numbers,
    })
    .optional(),
});

const telnyxSection = z.strictObject({
  provider: z.literal("telnyx"),
  ...common,
  /** Where the Telnyx v2 API lives; only changed for an API proxy or a test stand-in. */
  apiBaseUrl: z.url().default("https://api.telnyx.com/v2"),
  /** The operator's own Telnyx account and the numbers it lends to users. */
  operator: z
    .strictObject({
      apiKey: z.string().min(1, "must be an API key of the account (Auth > API Keys in the Telnyx portal)"),
      publicKey: z.string().regex(TELNYX_PUBLIC_KEY, "must be the account's webhook public key (base64, 44 characters, from the Telnyx portal)"),
      numbers,
    })
    .optional(),
  /** Fetch inbound MMS media from loopback and private networks too (trials and tests only):
   *  Telnyx links media on its own storage hosts, and the gateway fetches only public addresses. */
  allowPrivateMediaHosts: z.boolean().default(false),
});

export const smsConfigSchema = z
  .preprocess(
    (raw) => (raw && typeof raw === "object" && !Array.isArray(raw) && !("provider" in raw) ? { ...raw, provider: "twilio" } : raw),
    z.discriminatedUnion("provider", [twilioSection, telnyxSection]),
  )
  .refine((config) => config.operator !== undefined || config.ownAccounts, {
    message: "configure an operator account (operator:), allow users' own accounts (ownAccounts: true), or both",
  });

export type SmsConfig = z.infer<typeof smsConfigSchema>;
export type TwilioSmsConfig = Extract<SmsConfig, { provider: "twilio" }>;
export type TelnyxSmsConfig = Extract<SmsConfig, { provider: "telnyx" }>;
