// Delivery-status notifications (RFC 3464): a bounce that arrives by mail, matched to the message
// it reports on by the Message-ID the gateway gave it, so the sender learns which message failed.
import type { IncomingMail } from "./mime.js";

export interface Bounce {
  /** Message-ID of the mail that failed, as the gateway wrote it (with angle brackets). */
  originalMessageId?: string;
  /** A sentence for the person who sent it. */
  reason: string;
  /** Only failures are reported; "delayed" notices change nothing for the sender. */
  failed: boolean;
}

interface RecipientStatus {
  recipient?: string;
  action?: string;
  status?: string;
  diagnostic?: string;
}

/** The bounce a mail carries, or undefined when it is not a delivery-status report. */
export function readBounce(mail: IncomingMail): Bounce | undefined {
  if (mail.report?.type !== "delivery-status" || !mail.report.status) return undefined;
  const recipients = statusGroups(mail.report.status).filter((group) => group.action || group.status);
  const failures = recipients.filter((group) => group.action === "failed" || (!group.action && group.status?.startsWith("5")));
  const originalMessageId = mail.report.original ? messageIdOf(mail.report.original) : undefined;
  const reason = failures.length > 0 ? failures.map(describe).join(" ") : "The mail server reported on this message without saying it failed.";
  return { ...(originalMessageId && { originalMessageId }), reason, failed: failures.length > 0 };
}

function describe(group: RecipientStatus): string {
  const who = group.recipient ? ` to ${group.recipient}` : "";
  const why = group.diagnostic ?? (group.status ? `status ${group.status}` : "no reason given");
  return `The mail${who} could not be delivered: ${why}${group.status && group.diagnostic && !group.diagnostic.includes(group.status) ? ` (status ${group.status})` : ""}.`.replace(
    /\.\.$/,
    ".",
  );
}

/** The per-recipient field groups of a message/delivery-status body (the first group is per-message). */
function statusGroups(text: string): RecipientStatus[] {
  return text
    .replace(/\r\n/g, "\n")
    .replace(/\n[ \t]+/g, " ")
    .split(/\n\s*\n/)
    .map((block) => {
      const fields = new Map<string, string>();
      for (const line of block.split("\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const typed = (value: string | undefined): string | undefined => value?.replace(/^[a-z0-9-]+\s*;\s*/i, "").trim() || undefined;
      const recipient = typed(fields.get("final-recipient") ?? fields.get("original-recipient"));
      const action = fields.get("action")?.toLowerCase();
      const status = fields.get("status");
      const diagnostic = typed(fields.get("diagnostic-code"));
      return { ...(recipient && { recipient }), ...(action && { action }), ...(status && { status }), ...(diagnostic && { diagnostic }) };
    });
}

function messageIdOf(headers: string): string | undefined {
  const unfolded = headers
    .replace(/\r\n/g, "\n")
    .split(/\n\n/)[0]!
    .replace(/\n[ \t]+/g, " ");
  const line = unfolded.split("\n").find((candidate) => /^message-id\s*:/i.test(candidate));
  return line ? /<[^<>\s]+>/.exec(line)?.[0] : undefined;
}
