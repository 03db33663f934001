// A chat message as a mail: text/plain UTF-8, a subject, a stable Message-ID, thread headers.
import type Mail from "nodemailer/lib/mailer/index.js";
import type { OutboundMessage } from "../../src/transport/contract.js";
import type { FetchedAttachment } from "./attachments-out.js";
import type { ReplyHeaders } from "./threads.js";

export interface ComposeInput {
  message: OutboundMessage;
  from: { address: string; name?: string };
  reply: ReplyHeaders;
  attachments: FetchedAttachment[];
  linked: string[];
  defaultSubject: string;
  messageIdDomain: string;
}

/** The same chat message always gets the same Message-ID, so a retried send is recognisable. */
export function messageIdOf(message: Pick<OutboundMessage, "id">, domain: string): string {
  return `<${message.id}@${domain}>`;
}

export function composeMail(input: ComposeInput): Mail.Options {
  const { message, from, reply } = input;
  const text = [message.body, ...input.linked.filter((url) => !message.body.includes(url))].filter(Boolean).join("\n\n");
  // A reply takes "Re:" and the subject of the mail it answers; the first mail of a group the user
  // started has the group's own subject.
  const subject =
    message.subject?.trim() ||
    (reply.subject ? (/^re:/i.test(reply.subject) ? reply.subject : `Re: ${reply.subject}`) : message.group?.subject) ||
    input.defaultSubject;
  // A message to a group is a reply to all: everyone the thread's latest mail named, but the user.
  const to = message.group ? message.group.to : [message.peer];
  const cc = message.group?.cc ?? [];
  return {
    from: from.name ? { name: from.name, address: from.address } : from.address,
    to: to.length > 0 ? to : cc,
    ...(to.length > 0 && cc.length > 0 && { cc }),
    envelope: { from: from.address, to: [...to, ...cc] },
    subject: oneLine(subject),
    text,
    textEncoding: "quoted-printable",
    messageId: messageIdOf(message, input.messageIdDomain),
    date: message.sentAt,
    ...(reply.inReplyTo && { inReplyTo: reply.inReplyTo }),
    ...(reply.references.length > 0 && { references: reply.references }),
    attachments: input.attachments.map((attachment) => ({ filename: attachment.filename, content: attachment.content, contentType: attachment.contentType })),
    headers: { "X-Mailer": "Switchboard XMPP gateway" },
  };
}

const oneLine = (text: string): string => text.replace(/[\r\n]+/g, " ").slice(0, 500);
