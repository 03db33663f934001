// The e-mail transport's section of switchboard.yaml, validated once at start.
import { z } from "zod";

export const securitySchema = z.enum(["tls", "starttls", "none"]);
export type Security = z.infer<typeof securitySchema>;

const port = z.number().int().min(1).max(65535);

const hostedSchema = z.strictObject({
  /** The mail domain whose addresses belong to the gateway's users (its MX points at your mail server). */
  domain: z
    .string()
    .min(3)
    .regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/i, "must be a mail domain such as mail.example.org")
    .transform((value) => value.toLowerCase()),
  /** The one mailbox that receives all mail for the domain (a catch-all). */
  imap: z.strictObject({
    host: z.string().min(1),
    port: port.default(993),
    security: securitySchema.default("tls"),
    user: z.string().min(1),
    password: z.string().min(1),
  }),
  /** The relay that sends mail for the domain. */
  smtp: z.strictObject({
    host: z.string().min(1),
    port: port.default(587),
    security: securitySchema.default("starttls"),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
  }),
});

export const emailConfigSchema = z
  .strictObject({
    /** personal: each user registers their own mailbox; hosted: users get addresses on one domain. */
    mode: z.enum(["personal", "hosted"]).default("personal"),
    hosted: hostedSchema.optional(),
    /** Subject of mail sent from a chat message that has none. */
    defaultSubject: z.string().max(200).default("Message from Jabber"),
    /** Domain of the Message-IDs the gateway writes; the component domain when unset. */
    messageIdDomain: z.string().min(1).optional(),
    /** Cut quoted history ("> …", "On … wrote:") from incoming mail. */
    trimQuotes: z.boolean().default(true),
    /** Cut signatures (after "-- ") from incoming mail. */
    trimSignatures: z.boolean().default(true),
    /** What happens to a mail once its chat message is with the XMPP server. */
    markDone: z.enum(["seen", "move"]).default("seen"),
    /** The folder mail is moved to when markDone is "move" (created when missing). */
    doneFolder: z.string().min(1).default("Switchboard"),
    /** Chat attachments (OOB URLs) up to this size are attached to the mail; larger ones go as links. */
    maxAttachmentBytes: z
      .number()
      .int()
      .min(0)
      .default(10 * 1024 * 1024),
    /** Incoming mail larger than this is cut (the rest is left in the mailbox). */
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .default(25 * 1024 * 1024),
    /** Personal accounts may name mail servers, and chat attachments may point, on loopback or
     *  private networks (for trials and tests only: otherwise users could reach into the gateway's network). */
    allowPrivateServers: z.boolean().default(false),
    /** Check server certificates (turn off only for a trial against a self-signed server). */
    verifyCertificates: z.boolean().default(true),
    imap: z
      .strictObject({
        /** Quiet time before IMAP IDLE starts after a command; new mail is noticed from then on. */
        idleDelayMs: z.number().int().min(10).default(1_000),
        /** IDLE is restarted this often (some servers drop long IDLEs silently). */
        idleRestartMs: z
          .number()
          .int()
          .min(1_000)
          .default(5 * 60_000),
        reconnectMinMs: z.number().int().min(10).default(1_000),
        reconnectMaxMs: z
          .number()
          .int()
          .min(10)
          .default(5 * 60_000),
        /** Connection and greeting timeout. */
        timeoutMs: z.number().int().min(100).default(30_000),
      })
      .default({ idleDelayMs: 1_000, idleRestartMs: 5 * 60_000, reconnectMinMs: 1_000, reconnectMaxMs: 5 * 60_000, timeoutMs: 30_000 }),
    smtp: z
      .strictObject({
        timeoutMs: z.number().int().min(100).default(30_000),
        /** Connections kept open per SMTP account. */
        maxConnections: z.number().int().min(1).default(2),
      })
      .default({ timeoutMs: 30_000, maxConnections: 2 }),
  })
  .refine((config) => config.mode !== "hosted" || config.hosted !== undefined, {
    message: 'mode "hosted" needs a hosted section (domain, imap, smtp)',
    path: ["hosted"],
  });

export type EmailConfig = z.infer<typeof emailConfigSchema>;
export type HostedConfig = z.infer<typeof hostedSchema>;
