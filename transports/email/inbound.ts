// One mail from a watched mailbox into chat: bounces reported against the message they concern,
// spam left where it is, everything else delivered to the user(s) it is for.
import type { Logger } from "pino";
import type { Attachment, Delivery, GroupParticipant, TransportContext } from "../../src/transport/contract.js";
import type { BareJid } from "../../src/transport/index.js";
import type { EmailAddress } from "./address.js";
import { readBounce } from "./bounce.js";
import type { EmailConfig } from "./config.js";
import type { HostedDirectory } from "./hosted.js";
import type { FetchedMail, MailOutcome } from "./imap.js";
import { parseMail, type IncomingMail } from "./mime.js";
import { isFlaggedSpam } from "./spam.js";
import { groupKeyOf, type ThreadLink, type Threads } from "./threads.js";

export interface InboundDeps {
  context: TransportContext;
  config: EmailConfig;
  threads: Threads;
  hosted?: HostedDirectory;
  /** Domain of the Message-IDs the gateway writes: a bounce naming one is ours to report. */
  messageIdDomain: string;
  log: Logger;
}

export interface MailHandler {
  handle(fetched: FetchedMail): Promise<MailOutcome>;
  /** Starts parsing a mail that handle() will take later (see MailboxSessionOptions.readAhead). */
  readAhead(fetched: FetchedMail): void;
}

/** The handler for one mailbox: `owner` (whose address is `ownAddress`) for a personal mailbox,
 *  none for the hosted catch-all. */
export function createMailHandler(deps: InboundDeps, mailboxKey: string, owner?: BareJid, ownAddress?: string): MailHandler {
  const { context, config, log } = deps;
  // Parses started ahead, by the fetched source they read (gone with it).
  const parsing = new WeakMap<Buffer, Promise<IncomingMail>>();
  const parse = (source: Buffer): Promise<IncomingMail> => {
    let parsed = parsing.get(source);
    if (!parsed) {
      parsed = parseMail(source, config);
      parsed.catch(() => undefined); // awaited by handle(); a failure is handled there
      parsing.set(source, parsed);
    }
    return parsed;
  };

  return { handle, readAhead: (fetched) => void parse(fetched.source) };

  async function handle(fetched: FetchedMail): Promise<MailOutcome> {
    const where = { mailbox: mailboxKey, uid: fetched.uid };
    let mail: IncomingMail;
    try {
      mail = await parse(fetched.source);
    } catch (error) {
      // A mail no parser can read must not block the mailbox: it stays there, unread, for a person.
      log.warn({ ...where, err: error }, "left a mail that could not be parsed in the mailbox");
      return { kind: "leave" };
    }

    const bounce = readBounce(mail);
    if (bounce?.originalMessageId?.endsWith(`@${deps.messageIdDomain}>`)) {
      if (bounce.failed) await context.reportStatus(bounce.originalMessageId, { state: "failed", reason: bounce.reason });
      log.info({ ...where, messageId: bounce.originalMessageId, failed: bounce.failed }, "delivery report for a mail we sent");
      return { kind: "done" };
    }
    if (isFlaggedSpam(mail)) {
      log.info(where, "left a mail marked as spam in the mailbox");
      return { kind: "leave" };
    }
    if (!mail.from) {
      log.info(where, "left a mail without a usable From address in the mailbox");
      return { kind: "leave" };
    }
    const users = owner ? [owner] : ((await deps.hosted?.route(mail)) ?? []);
    if (users.length === 0) {
      log.info(where, "left a mail for no registered address in the mailbox");
      return { kind: "leave" };
    }

    let attachments: StoredAttachments | undefined;
    const delivered: Array<Promise<void>> = [];
    for (const user of users) {
      attachments ??= await storeAttachments(mail, deps);
      // A hosted mail may be stored once per recipient; its Message-ID keeps it one chat message.
      const sourceId = owner
        ? `${mailboxKey}:${fetched.uidValidity}:${fetched.uid}`
        : `${mailboxKey}:${mail.messageId ?? `${fetched.uidValidity}:${fetched.uid}`}:${user}`;
      const cut = fetched.truncated
        ? [`[This mail is longer than ${Math.round(config.maxMessageBytes / 1_048_576)} MB; only its beginning is shown. The whole mail is in the mailbox.]`]
        : [];
      const delivery = await deliverMail(deps, { mail, from: mail.from, user, sourceId, attachments, notes: cut, ...(ownAddress && { ownAddress }) });
      if (delivery.filtered) {
        // The user's policy (e.g. only mail from people they wrote to): the mail stays unread.
        log.info({ ...where, user }, "left a mail the user's policy keeps out");
        continue;
      }
      // debug, not info: a synchronous log write per mail cost about 5 % of the gateway's CPU on
      // this path; what is left, refused or fails stays at info and above.
      log.debug({ ...where, user, duplicate: delivery.duplicate, attachments: attachments.stored.length }, "mail handed to XMPP");
      delivered.push(delivery.delivered);
    }
    return delivered.length > 0 ? { kind: "deliver", delivered: Promise.all(delivered) } : { kind: "leave" };
  }
}

/**
 * A mail that names more than one party besides the user (From, To and Cc), or that answers a mail
 * of a group conversation, belongs to a group: its key (the thread's, kept by threads.ts) and
 * everyone it names except the user. A mail the user sent (a copy in their own inbox) is not one.
 */
async function groupOf(
  deps: InboundDeps,
  mail: IncomingMail,
  user: BareJid,
  ownAddress: string | undefined,
): Promise<{ key: string; participants: GroupParticipant[]; link: ThreadLink } | undefined> {
  if (!mail.messageId || !mail.from) return undefined;
  const own = new Set<string>([...mail.envelopeRecipients, ...(ownAddress ? [ownAddress] : [])]);
  if (own.has(mail.from.address)) return undefined;
  let participants: GroupParticipant[] = [];
  const add = (address: string, name: string | undefined, field: GroupParticipant["field"]): void => {
    if (own.has(address) || participants.some((known) => known.address === address)) return;
    participants.push({ address, field, ...(name && { name }) });
  };
  add(mail.from.address, mail.from.name, "from");
  for (const { address, name } of mail.to) add(address, name, "to");
  for (const { address, name } of mail.cc) add(address, name, "cc");
  // In hosted mode the user's own address may be any the user holds on the domain; it is looked up
  // only when it could change the answer (a one-to-one mail costs no extra read).
  const hostedDomain = deps.config.hosted?.domain;
  if (deps.hosted && hostedDomain && participants.length >= 2) {
    const mine = await Promise.all(
      participants.map(async ({ address }) => address.endsWith(`@${hostedDomain}`) && (await deps.hosted!.ownerOf(address)) === user),
    );
    if (mine[0]) return undefined;
    participants = participants.filter((_, i) => !mine[i]);
  }
  const link: ThreadLink = { messageId: mail.messageId, references: mail.references, ...(mail.subject && { subject: mail.subject }) };
  const known = await deps.threads.groupOf(user, mail.references);
  if (!known && participants.length < 2) return undefined;
  return { key: known ?? groupKeyOf(link), participants, link };
}

export interface StoredAttachments {
  stored: Attachment[];
  notes: string[];
}

/**
 * One mail for one user, handed to the core: as a message of its group chat when it belongs to one
 * (groupOf), otherwise in its mail thread, with `notes` after its text. Resolves once the core has
 * stored it, so its source may be acknowledged. The catch-all's handler and the LMTP listener both
 * hand mail on through here.
 */
export async function deliverMail(
  deps: InboundDeps,
  input: {
    mail: IncomingMail;
    /** Who the chat message is from: the mail's From, or (LMTP) its envelope sender. */
    from: { address: EmailAddress; name?: string };
    user: BareJid;
    sourceId: string;
    attachments: StoredAttachments;
    notes: string[];
    /** The user's own address, which is no group participant. */
    ownAddress?: string;
  },
): Promise<Delivery> {
  const { mail, from, user, sourceId, attachments } = input;
  const group = await groupOf(deps, mail, user, input.ownAddress);
  const threading = group
    ? undefined
    : mail.messageId
      ? await deps.threads.received(user, from.address, sourceId, {
          messageId: mail.messageId,
          references: mail.references,
          ...(mail.subject && { subject: mail.subject }),
        })
      : undefined;
  const thread = threading?.thread;
  const body = [mail.body || (attachments.stored.length > 0 ? "" : "(This mail has no text.)"), ...attachments.notes, ...input.notes]
    .filter(Boolean)
    .join("\n");
  const delivery = await deps.context.deliver({
    user,
    peer: from.address,
    body,
    sourceId,
    attachments: attachments.stored,
    ...(mail.subject && { subject: mail.subject }),
    ...(thread && { thread }),
    ...(mail.sentAt && { sentAt: mail.sentAt }),
    ...(from.name && { nick: from.name }),
    ...(group && { group: { key: group.key, participants: group.participants } }),
  });
  await threading?.saved;
  if (group) await deps.threads.groupMail(user, group.key, group.link);
  return delivery;
}

/** Attachments of one mail kept in the media store. */
const MAX_STORED_ATTACHMENTS = 20;

/** Keeps a mail's attachments in the media store; those it cannot keep are named in notes that
 *  say where the whole mail is (`kept`). */
export async function storeAttachments(mail: IncomingMail, deps: InboundDeps, kept = "it is in the mailbox"): Promise<StoredAttachments> {
  const stored: Attachment[] = [];
  const notes: string[] = [];
  // A chat message shows about this many (the core's inbox names the rest by a count); storing
  // thousands from one stranger's mail would push everyone's older attachments out of the quota.
  const taken = mail.attachments.slice(0, MAX_STORED_ATTACHMENTS);
  const left = mail.attachments.length - taken.length;
  if (left > 0)
    notes.push(`[${left} more attachment${left === 1 ? " was" : "s were"} not forwarded: a chat message carries at most ${MAX_STORED_ATTACHMENTS}; ${kept}.]`);
  for (const attachment of taken) {
    if (attachment.data.length > deps.config.maxAttachmentBytes) {
      notes.push(`[${attachment.name ?? "An attachment"} (${Math.round(attachment.data.length / 1024)} KB) is too large to forward; ${kept}.]`);
      continue;
    }
    try {
      stored.push(await deps.context.media.put({ data: attachment.data, mediaType: attachment.mediaType, ...(attachment.name && { name: attachment.name }) }));
    } catch (error) {
      // Larger than the operator's whole attachment quota: a note, not a mail retried for ever.
      if ((error as { code?: string }).code !== "media-too-large") throw error;
      notes.push(`[${attachment.name ?? "An attachment"} (${Math.round(attachment.data.length / 1024)} KB) is larger than this gateway keeps; ${kept}.]`);
    }
  }
  return { stored, notes };
}
