// The e-mail transport's section of switchboard.yaml, validated once at start.
import ipaddr from "ipaddr.js";
import { z } from "zod";

export const securitySchema = z.enum(["tls", "starttls", "none"]);
export type Security = z.infer<typeof securitySchema>;

const port = z.number().int().min(1).max(65535);

const lmtpSchema = z
  .strictObject({
    /** The address the LMTP listener binds (loopback by default: LMTP has no login). */
    host: z.string().min(1).default("127.0.0.1"),
    port: port.optional(),
    /** A unix socket path to listen on instead of host:port. */
    socket: z.string().startsWith("/", "must be an absolute path such as /run/switchboard/lmtp.sock").optional(),
    /** Permissions of the socket file (octal); the mail server's user must be able to write to it. */
    socketMode: z
      .string()
      .regex(/^0?[0-7]{3}$/, 'must be octal permissions such as "0660"')
      .default("0660"),
    /** Clients (addresses or CIDR ranges) that may connect over TCP; everyone else is turned away. */
    allowFrom: z
      .array(z.string().refine(isCidrOrAddress, "must be an IP address or a CIDR range such as 10.0.0.0/8"))
      .min(1)
      .default(["127.0.0.0/8", "::1/128"]),
    /** Recipients taken in one transaction; the mail server sends the rest in another. */
    maxRecipients: z.number().int().min(1).max(10_000).default(100),
    /** A client silent for this long is disconnected. */
    timeoutMs: z.number().int().min(1_000).default(60_000),
  })
  .refine((lmtp) => (lmtp.port === undefined) !== (lmtp.socket === undefined), {
    message: "give either port (with host) or socket, not both",
    path: ["port"],
  });

const hostedSchema = z
  .strictObject({
    /** The mail domain whose addresses belong to the gateway's users (its MX points at your mail server). */
    domain: z
      .string()
      .min(3)
      .regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/i, "must be a mail domain such as mail.example.org")
      .transform((value) => value.toLowerCase()),
    /** The one mailbox that receives all mail for the domain (a catch-all), read over IMAP. Either this or lmtp. */
    imap: z
      .strictObject({
        host: z.string().min(1),
        port: port.default(993),
        security: securitySchema.default("tls"),
        user: z.string().min(1),
        password: z.string().min(1),
      })
      .optional(),
    /** Or: the mail server hands the domain's mail straight to the gateway over LMTP (RFC 2033). */
    lmtp: lmtpSchema.optional(),
    /** The relay that sends mail for the domain. */
    smtp: z.strictObject({
      host: z.string().min(1),
      port: port.default(587),
      security: securitySchema.default("starttls"),
      user: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
    }),
  })
  .refine((hosted) => (hosted.imap === undefined) !== (hosted.lmtp === undefined), {
    message: "mail for the domain arrives either by imap (a catch-all mailbox) or by lmtp (from your mail server): give one of the two",
    path: ["imap"],
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
    /** Incoming mail larger than this is cut (the rest is left in the mailbox); over LMTP it is refused. */
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
    message: 'mode "hosted" needs a hosted section (domain, imap or lmtp, smtp)',
    path: ["hosted"],
  });

export type EmailConfig = z.infer<typeof emailConfigSchema>;
export type HostedConfig = z.infer<typeof hostedSchema>;
export type LmtpConfig = z.infer<typeof lmtpSchema>;

function isCidrOrAddress(text: string): boolean {
  try {
    if (text.includes("/")) ipaddr.parseCIDR(text);
    else ipaddr.parse(text);
    return true;
  } catch {
    return false;
  }
}
