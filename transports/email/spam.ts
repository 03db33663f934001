// Mail the mail server marked as spam stays in the mailbox and never reaches a chat.
import type { IncomingMail } from "./mime.js";

export function isFlaggedSpam(mail: IncomingMail): boolean {
  const first = (name: string): string => mail.headers.get(name)?.[0]?.trim().toLowerCase() ?? "";
  // SpamAssassin (X-Spam-Flag, X-Spam-Status), Rspamd and many filters (X-Spam), Exchange (SCL ≥ 5).
  if (first("x-spam-flag").startsWith("yes")) return true;
  if (/^yes\b/.test(first("x-spam-status"))) return true;
  if (/^(yes|true)\b/.test(first("x-spam"))) return true;
  const scl = first("x-ms-exchange-organization-scl");
  return /^-?\d+$/.test(scl) && Number(scl) >= 5;
}
