// The sms section of switchboard.yaml, checked once at start.
import { isSupportedCountry, type CountryCode } from "libphonenumber-js";
import { z } from "zod";

const accountSid = z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be a Twilio Account SID (AC followed by 32 hex digits)");
const ownedNumber = z.string().regex(/^(\+[1-9]\d{5,14}|\d{3,6})$/, "must be an E.164 number such as +14155550123 or a short code");

export const smsConfigSchema = z
  .strictObject({
    /** Region for numbers written without a country code, e.g. "(415) 555-0123" with US. */
    defaultRegion: z
      .string()
      .transform((value) => value.toUpperCase())
      .refine((value) => isSupportedCountry(value), "must be a two-letter country code such as US or GB")
      .transform((value) => value as CountryCode)
      .default("US" as CountryCode),
    /** Where the Twilio API lives; only changed for an API proxy or a test stand-in. */
    apiBaseUrl: z.url().default("https://api.twilio.com"),
    /** The public base URL Twilio posts webhooks to, when it differs from http.publicUrl. */
    publicUrl: z.url().optional(),
    /** The operator's own Twilio account and the numbers it lends to users. */
    operator: z
      .strictObject({
        accountSid,
        authToken: z.string().min(1, "must be the account's Auth Token"),
        numbers: z.array(ownedNumber).min(1, "list at least one number the account owns"),
      })
      .optional(),
    /** Let users register their own Twilio account and number ("bring your own Twilio"). */
    ownAccounts: z.boolean().default(false),
    /** Most texts one user may send per day (UTC); a long message counts once per text it becomes. */
    dailyTextsPerUser: z.number().int().positive().optional(),
    /** Texts per second from one sender number (Twilio queues beyond its own limit, then fails). */
    messagesPerSecond: z.number().positive().default(1),
    maxWebhookBytes: z.number().int().positive().default(64 * 1024),
    /** Largest inbound MMS attachment the gateway fetches (Twilio's own limit is 5 MB). */
    maxMediaBytes: z.number().int().positive().default(5 * 1024 * 1024),
    /** A status that outruns the send's own bookkeeping waits this long before it is reported. */
    statusGraceMs: z.number().int().min(0).default(1_000),
  })
  .refine((config) => config.operator !== undefined || config.ownAccounts, {
    message: "configure an operator account (operator:), allow users' own accounts (ownAccounts: true), or both",
  });

export type SmsConfig = z.infer<typeof smsConfigSchema>;
