// What one mail handed over by LMTP becomes for each of its recipients (RFC 2033 section 4.2: one
// reply per recipient after DATA): 250 once its chat message is in the store, 5xx when it never
// can be (the mail server bounces it), 4xx when it may be later (the mail server keeps it and retries).
// Spam is the exception: 250, and dropped.
import { createHash } from "node:crypto";
import type { BareJid } from "../../src/transport/index.js";
import { tryParseAddress } from "./address.js";
import { readBounce } from "./bounce.js";
import type { HostedDirectory } from "./hosted.js";
import { deliverMail, storeAttachments, type InboundDeps, type StoredAttachments } from "./inbound.js";
import { parseMail, type IncomingMail } from "./mime.js";
import { isFlaggedSpam } from "./spam.js";

/** One LMTP reply: the basic code and a text that starts with its RFC 3463 enhanced status code. */
export interface LmtpReply {
  code: number;
  text: string;
}

/** The replies the gateway gives, by what happened (RFC 3463 codes). */
export const LMTP_REPLY = {
  stored: { code: 250, text: "2.1.5 Stored; it is on its way to the user's chat" },
  duplicate: { code: 250, text: "2.1.5 Delivered before; not stored again" },
  report: { code: 250, text: "2.1.5 Delivery report taken" },
  unknownRecipient: { code: 550, text: "5.1.1 No user of this gateway holds this address" },
  noSender: { code: 550, text: "5.1.7 The mail has no usable sender address (From or envelope sender) to show as its contact" },
  // Not a 5xx: the mail server would bounce it to the sender, who is usually forged (backscatter).
  spam: { code: 250, text: "2.1.5 Marked as spam; dropped, not forwarded to the chat" },
  policy: { code: 550, text: "5.7.1 The recipient takes mail only from addresses they have written to" },
  unreadable: (why: string): LmtpReply => ({ code: 554, text: `5.6.0 The mail could not be read as MIME: ${why.slice(0, 200)}` }),
  tooBig: (limit: number): LmtpReply => ({ code: 552, text: `5.3.4 The mail is larger than this gateway takes (${limit} bytes)` }),
  storeFull: { code: 452, text: "4.3.1 The gateway cannot store mail right now (its storage is full or unreachable); try again later" },
  failed: { code: 451, text: "4.3.0 The gateway failed to take the mail; try again later" },
} satisfies Record<string, LmtpReply | ((detail: never) => LmtpReply)>;

export interface LmtpEnvelope {
  /** MAIL FROM, empty for a null sender (<>, a bounce). */
  sender: string;
  /** RCPT TO, in order: one reply each. */
  recipients: string[];
}

export interface LmtpMailDeps extends InboundDeps {
  hosted: HostedDirectory;
  /** The hosted mail domain. */
  domain: string;
}

/**
 * Who holds an envelope recipient: the hosted directory, asked with the canonical address. The
 * directory never lets a user claim the operator's own addresses or the role names, so whoever
 * holds an address is a user.
 */
export async function recipientOwner(deps: Pick<LmtpMailDeps, "hosted" | "domain">, address: string): Promise<BareJid | undefined> {
  const parsed = tryParseAddress(address);
  if (!parsed?.endsWith(`@${deps.domain}`)) return undefined;
  return (await deps.hosted.ownerOf(parsed)) ?? undefined;
}

/** The reply for each envelope recipient, in their order. Never throws. */
export async function takeLmtpMail(deps: LmtpMailDeps, envelope: LmtpEnvelope, source: Buffer): Promise<LmtpReply[]> {
  const { log } = deps;
  const all = (reply: LmtpReply): LmtpReply[] => envelope.recipients.map(() => reply);
  let mail: IncomingMail;
  try {
    mail = await parseMail(source, deps.config);
  } catch (error) {
    log.warn({ err: error, bytes: source.length }, "refused a mail over LMTP that could not be parsed");
    return all(LMTP_REPLY.unreadable((error as Error).message ?? String(error)));
  }

  try {
    const bounce = readBounce(mail);
    if (bounce?.originalMessageId?.endsWith(`@${deps.messageIdDomain}>`)) {
      if (bounce.failed) await deps.context.reportStatus(bounce.originalMessageId, { state: "failed", reason: bounce.reason });
      log.info({ messageId: bounce.originalMessageId, failed: bounce.failed }, "delivery report over LMTP for a mail we sent");
      return all(LMTP_REPLY.report);
    }
  } catch (error) {
    return all(failure(deps, error, "could not record a delivery report taken over LMTP"));
  }
  // The catch-all leaves spam in the mailbox for a person; over LMTP there is no mailbox to leave it in.
  if (isFlaggedSpam(mail)) {
    log.info({ messageId: mail.messageId, recipients: envelope.recipients }, "dropped a mail over LMTP marked as spam");
    return all(LMTP_REPLY.spam);
  }
  // A mail without a usable From is still somebody's: the envelope sender names them.
  const envelopeSender = tryParseAddress(envelope.sender);
  const from = mail.from ?? (envelopeSender && { address: envelopeSender });
  if (!from) {
    log.info({ recipients: envelope.recipients.length }, "refused a mail over LMTP without a usable sender address");
    return all(LMTP_REPLY.noSender);
  }

  // The mail server sends the same bytes again when it retries: without a Message-ID they name it.
  const mailId = mail.messageId ?? `sha256:${createHash("sha256").update(source).digest("base64url")}`;
  let attachments: StoredAttachments | undefined;
  const forRecipient = async (recipient: string): Promise<LmtpReply> => {
    let user: BareJid | undefined;
    try {
      user = await recipientOwner(deps, recipient);
      if (!user) return LMTP_REPLY.unknownRecipient;
      attachments ??= await storeAttachments(mail, deps, "ask the sender for it another way");
      // The same source id as the IMAP catch-all's: a mail that reached both arrives once.
      const sourceId = `hosted:${mailId}:${user}`;
      const delivery = await deliverMail(deps, { mail, from, user, sourceId, attachments, notes: [], ownAddress: recipient.toLowerCase() });
      if (delivery.filtered) {
        log.info({ recipient, user }, "refused a mail over LMTP that the user's policy keeps out");
        return LMTP_REPLY.policy;
      }
      // debug, not info: one synchronous write to the log file per mail cost about 3 % of the
      // gateway's CPU on this path; refusals and failures stay at info and above.
      log.debug({ recipient, user, duplicate: delivery.duplicate, attachments: attachments.stored.length }, "mail over LMTP stored for XMPP");
      return delivery.duplicate ? LMTP_REPLY.duplicate : LMTP_REPLY.stored;
    } catch (error) {
      // Unregistered between RCPT and DATA: nobody holds the address any more.
      if ((error as { code?: string }).code === "not-registered") return LMTP_REPLY.unknownRecipient;
      return failure(deps, error, "could not store a mail taken over LMTP", { recipient, ...(user && { user }) });
    }
  };
  // One after the other: the attachments are stored by the first recipient that has a user.
  const replies: LmtpReply[] = [];
  for (const recipient of envelope.recipients) replies.push(await forRecipient(recipient));
  return replies;
}

/** A temporary failure: 452 when the store (or the disk the attachments go to) is full or
 *  unreachable, 451 for anything else; logged for the operator either way. */
function failure(deps: LmtpMailDeps, error: unknown, what: string, where: Record<string, string> = {}): LmtpReply {
  const code = (error as { code?: string }).code;
  const full = code === "store-unavailable" || code === "ENOSPC" || code === "EDQUOT" || code === "EROFS";
  deps.log.warn({ ...where, err: error }, `${what}; the mail server will retry`);
  return full ? LMTP_REPLY.storeFull : LMTP_REPLY.failed;
}
