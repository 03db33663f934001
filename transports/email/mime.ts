// Incoming mail, parsed: who wrote it, to whom, what it says, what it carries, where it belongs.
import { simpleParser, type AddressObject, type ParsedMail as Parsed, type HeaderValue } from "mailparser";
import { tryParseAddress, type EmailAddress } from "./address.js";
import { htmlToText } from "./html-text.js";
import { trimReply } from "./trim.js";

export interface MailAttachment {
  data: Buffer;
  mediaType: string;
  name?: string;
}

export interface IncomingMail {
  messageId?: string;
  /** Message-IDs from References (oldest first), with In-Reply-To last when References lacks it. */
  references: string[];
  inReplyTo?: string;
  from?: { address: EmailAddress; name?: string };
  /** Recipients the receiving mail server wrote down (Delivered-To, X-Original-To): the envelope. */
  envelopeRecipients: EmailAddress[];
  /** Recipients the sender wrote (To, Cc). */
  headerRecipients: EmailAddress[];
  /** The same, with their display names, as written in To and in Cc (at most MAX_NAMED each). */
  to: NamedAddress[];
  cc: NamedAddress[];
  subject?: string;
  body: string;
  attachments: MailAttachment[];
  sentAt?: Date;
  /** Header name (lower case) → value(s) as text, for spam and report checks. */
  headers: Map<string, string[]>;
  /** The parts of a multipart/report, when the mail is one. */
  report?: { type: string; status?: string; original?: string };
}

export interface NamedAddress {
  address: EmailAddress;
  name?: string;
}

/** A mail may name thousands of recipients; more than this are not read by name. */
const MAX_NAMED = 100;

export interface MimeOptions {
  trimQuotes: boolean;
  trimSignatures: boolean;
}

export async function parseMail(source: Buffer, options: MimeOptions): Promise<IncomingMail> {
  const parsed = await simpleParser(source, {
    keepDeliveryStatus: true,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
  });
  const headers = headerTexts(source);
  const from = firstAddress(parsed.from);
  const references = listOf(parsed.references);
  const inReplyTo = typeof parsed.inReplyTo === "string" ? parsed.inReplyTo.trim().split(/\s+/)[0] : undefined;
  if (inReplyTo && !references.includes(inReplyTo)) references.push(inReplyTo);

  const reportType = contentTypeParam(parsed.headers.get("content-type"), "report-type");
  const attachments: MailAttachment[] = [];
  let status: string | undefined;
  let original: string | undefined;
  for (const attachment of parsed.attachments) {
    const type = attachment.contentType.toLowerCase();
    if (reportType && (type === "message/delivery-status" || type === "message/global-delivery-status")) status = attachment.content.toString("utf8");
    else if (reportType && (type === "message/rfc822" || type === "text/rfc822-headers" || type === "message/global-headers"))
      original = attachment.content.toString("utf8");
    else
      attachments.push({ data: attachment.content, mediaType: type || "application/octet-stream", ...(attachment.filename && { name: attachment.filename }) });
  }

  const text = parsed.text?.trim() ? parsed.text : typeof parsed.html === "string" ? htmlToText(parsed.html) : "";
  const body = trimReply(text.replace(/\r\n/g, "\n"), { ...options, ...(parsed.subject && { subject: parsed.subject }) }).trim();
  // Only the topmost of each was written by the receiving server; lower ones may come from the sender.
  const envelopeRecipients = cleanAddresses(
    [headers.get("delivered-to")?.[0], headers.get("x-original-to")?.[0]].filter((value): value is string => value !== undefined),
  );
  const headerRecipients = cleanAddresses([...addresses(parsed.to), ...addresses(parsed.cc)]);

  return {
    ...(parsed.messageId && { messageId: parsed.messageId }),
    references,
    ...(inReplyTo && { inReplyTo }),
    ...(from && { from }),
    envelopeRecipients,
    headerRecipients,
    to: named(parsed.to),
    cc: named(parsed.cc),
    ...(parsed.subject && { subject: parsed.subject }),
    body,
    attachments,
    ...(parsed.date && !Number.isNaN(parsed.date.getTime()) && { sentAt: parsed.date }),
    headers,
    ...(reportType && { report: { type: reportType.toLowerCase(), ...(status && { status }), ...(original && { original }) } }),
  };
}

function cleanAddresses(list: string[]): EmailAddress[] {
  const parsed = list.map((address) => tryParseAddress(address.replace(/^<|>$/g, ""))).filter((address): address is EmailAddress => address !== undefined);
  return [...new Set(parsed)];
}

function firstAddress(value: AddressObject | AddressObject[] | undefined): { address: EmailAddress; name?: string } | undefined {
  const first = (Array.isArray(value) ? value : value ? [value] : []).flatMap((object) => object.value)[0];
  const address = tryParseAddress(first?.address);
  if (!address) return undefined;
  const name = first?.name?.trim();
  return { address, ...(name && { name }) };
}

/** Valid addresses with their names, each once, groups flattened. */
function named(value: AddressObject | AddressObject[] | undefined): NamedAddress[] {
  const objects = Array.isArray(value) ? value : value ? [value] : [];
  const found = new Map<EmailAddress, NamedAddress>();
  const walk = (entries: AddressObject["value"]): void => {
    for (const entry of entries) {
      if (found.size >= MAX_NAMED) return;
      if (entry.group) walk(entry.group);
      const address = tryParseAddress(entry.address);
      const name = entry.name?.trim();
      if (address && !found.has(address)) found.set(address, { address, ...(name && { name }) });
    }
  };
  for (const object of objects) walk(object.value);
  return [...found.values()];
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const objects = Array.isArray(value) ? value : value ? [value] : [];
  return objects.flatMap((object) => flatten(object.value));
}

function flatten(entries: AddressObject["value"]): string[] {
  return entries.flatMap((entry) => [...(entry.address ? [entry.address] : []), ...(entry.group ? flatten(entry.group) : [])]);
}

function listOf(value: string | string[] | undefined): string[] {
  const items = Array.isArray(value) ? value : value ? value.split(/\s+/) : [];
  return items.map((item) => item.trim()).filter((item) => /^<.+>$/.test(item));
}

function contentTypeParam(value: HeaderValue | undefined, name: string): string | undefined {
  if (!value || typeof value !== "object" || !("params" in value)) return undefined;
  const main = (value as { value?: string }).value?.toLowerCase();
  if (main !== "multipart/report") return undefined;
  return (value as { params: Record<string, string> }).params[name];
}

/** Unfolded header lines of the top-level header block, by lower-case name. */
export function headerTexts(source: Buffer): Map<string, string[]> {
  const text = source.subarray(0, 64 * 1024).toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  const block = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, " ");
  const headers = new Map<string, string[]>();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    // Appended in place: copying the list for each repeat made a block of repeated headers quadratic.
    const values = headers.get(name);
    if (values) values.push(value);
    else headers.set(name, [value]);
  }
  return headers;
}

export type { Parsed };
