// The shape of switchboard.yaml, checked once at start; everything inward gets typed values.
import { z } from "zod";
import { unsupportedEngine } from "../store/adapters.js";

const domainName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i, "must be a domain name such as gateway.example.org")
  .transform((value) => value.toLowerCase());

function storeUriProblem(uri: string): string {
  const scheme = uri.split(":")[0] ?? "";
  return /^postgres(ql)?$/i.test(scheme) ? "must be of the form postgresql://USER:PASSWORD@HOST:PORT/DATABASE" : unsupportedEngine(scheme);
}

const seconds = (fallback: number) => z.number().positive().default(fallback);

export const transportSectionSchema = z.looseObject({
  domain: domainName,
  secret: z.string().min(1, "must be the component secret set on the XMPP server"),
  /** A module path to load instead of the built-in transport of this name. */
  module: z.string().optional(),
  /** At most this many messages per user per day through this transport (SMS costs money). */
  messagesPerDay: z.number().int().positive().optional(),
});

export const configSchema = z.strictObject({
  xmpp: z.strictObject({
    host: z.string().min(1).default("127.0.0.1"),
    port: z.number().int().min(1).max(65535).default(5347),
    serverDomain: domainName.optional(),
    pingIntervalSeconds: seconds(30),
    pingTimeoutSeconds: seconds(15),
    reconnectMinSeconds: seconds(1),
    reconnectMaxSeconds: seconds(60),
  }),
  store: z.strictObject({
    /** sqlite://FILE (embedded, the default) or postgresql://USER:PASSWORD@HOST:PORT/DATABASE. */
    uri: z
      .string()
      .min(1)
      .default("sqlite://switchboard.sqlite")
      .refine((uri) => /^(sqlite:|postgres(ql)?:\/\/)/i.test(uri), { error: (issue) => storeUriProblem(String(issue.input)) }),
    secretKey: z.string().min(16, "must be at least 16 characters (it encrypts stored passwords and tokens)"),
    /** Keys used before secretKey: secrets they sealed are still read (and re-sealed by `switchboard rotate-key`). */
    previousSecretKeys: z.array(z.string().min(16, "must be at least 16 characters, like secretKey")).default([]),
    /** Where incoming messages are journaled until stored (default: next to the SQLite file). */
    journalDir: z.string().min(1).optional(),
    /** SQLite only. "normal" (default, as in 0.1.0): a commit survives a crash of the process; a
     *  power loss may lose the last moments' bookkeeping. "full": every commit is on disk before the
     *  gateway acknowledges anything (survives power loss), at a sync to disk per commit (bench/sqlite-commit.ts measures it). */
    sync: z.enum(["full", "normal"]).default("normal"),
  }),
  http: z
    .strictObject({
      host: z.string().default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(8280),
      publicUrl: z.url().optional(),
    })
    .default({ host: "127.0.0.1", port: 8280 }),
  media: z
    .strictObject({
      /** Where attachments from e-mail and MMS are kept until users fetch them. */
      dir: z.string().min(1).default("media"),
      retentionDays: z.number().positive().default(30),
      /** All kept attachments together stay within this: the oldest are removed to make room, and
       *  one larger than this alone is refused. */
      maxBytes: z
        .number()
        .int()
        .positive()
        .default(25 * 1024 * 1024),
      /** The XMPP server's HTTP File Upload service (XEP-0363), e.g. upload.example.org, or "discover"
       *  (the server domain's disco#items): attachments are uploaded there by each component, and
       *  kept by the gateway as above only when that fails. None: the gateway keeps them all. */
      uploadService: z
        .string()
        .regex(/^(?:discover|[^\s@/]{1,1023})$/, 'a service domain such as upload.example.org, or "discover"')
        .optional(),
    })
    .default({ dir: "media", retentionDays: 30, maxBytes: 25 * 1024 * 1024 }),
  log: z.strictObject({ level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info") }).default({ level: "info" }),
  access: z
    .strictObject({
      /** Domains (example.org) or bare JIDs (alice@example.org) that may register; "*" for anyone. */
      register: z.array(z.string().min(1)).optional(),
      admins: z.array(z.string().min(1)).default([]),
    })
    .default({ admins: [] }),
  limits: z
    .strictObject({
      maxBodyChars: z.number().int().min(1).default(20_000),
      maxSubjectChars: z.number().int().min(1).default(500),
      messagesPerMinute: z.number().int().min(1).default(30),
      maxQueuedStanzas: z.number().int().min(1).default(50_000),
      /** Give up on an outgoing message that could not be sent for this long. */
      retryForHours: z.number().positive().default(48),
      /** Registration attempts one user may make in 10 minutes (each may log in somewhere). */
      registrationAttemptsPerUser: z.number().int().min(1).default(5),
      /** Registrations the whole gateway takes per minute. */
      registrationsPerMinute: z.number().int().min(1).default(30),
      /** Messages each hosted group chat keeps for joins and MAM queries (docs/groups.md). */
      roomHistory: z.number().int().min(1).max(100_000).default(1_000),
    })
    .default({
      maxBodyChars: 20_000,
      maxSubjectChars: 500,
      messagesPerMinute: 30,
      maxQueuedStanzas: 50_000,
      retryForHours: 48,
      registrationAttemptsPerUser: 5,
      registrationsPerMinute: 30,
      roomHistory: 1_000,
    }),
  transports: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, "transport names are lower-case words"), transportSectionSchema),
});

export type Config = z.infer<typeof configSchema>;
export type TransportSection = z.infer<typeof transportSectionSchema>;
