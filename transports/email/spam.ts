// Mail the mail server marked as spam never reaches a chat (it stays in the mailbox; over LMTP it is
// dropped); a user may also choose to get mail only from addresses they wrote to.
import type { TransportPreference } from "../../src/transport/index.js";
import type { IncomingMail } from "./mime.js";

/** The user's sender policy: the core keeps the choice, filterIncoming applies it. */
export const SENDER_POLICY: TransportPreference = {
  var: "spam",
  label: "Which mail to forward",
  options: [
    { value: "all", label: "everything not marked as spam" },
    { value: "known", label: "only from addresses I have written to" },
  ],
};

export function isFlaggedSpam(mail: IncomingMail): boolean {
  const first = (name: string): string => mail.headers.get(name)?.[0]?.trim().toLowerCase() ?? "";
  // SpamAssassin (X-Spam-Flag, X-Spam-Status), Rspamd and many filters (X-Spam), Exchange (SCL ≥ 5).
  if (first("x-spam-flag").startsWith("yes")) return true;
  if (/^yes\b/.test(first("x-spam-status"))) return true;
  if (/^(yes|true)\b/.test(first("x-spam"))) return true;
  const scl = first("x-ms-exchange-organization-scl");
  return /^-?\d+$/.test(scl) && Number(scl) >= 5;
}
