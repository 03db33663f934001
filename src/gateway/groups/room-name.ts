// The name a user gives a room by joining a JID that does not exist yet: its local part. A strict
// server (ejabberd) puts a local part through nodeprep on Unicode 3.2's tables (RFC 3920 App. A,
// RFC 3454) and refuses a join that breaks it with <bad-request/> before the gateway sees it; a lenient
// one (Prosody lets code points unassigned in 3.2 through, such as the bidi isolates) passes the join
// on. The same rules here give the same answer behind either server. What nodeprep allows but a name
// here should not hold (very long names, invisible characters, the store's separators) is
// <not-acceptable/>.
import { gatewayError } from "../../errors.js";
import { followsBidiRule, STRINGPREP_PROHIBITED, UNASSIGNED_IN_3_2 } from "./unicode-3-2.js";

/** Code points; long enough for a name, short enough for a subject line and a bookmark. */
export const MAX_ROOM_NAME = 64;

/** Nodeprep's own prohibitions besides stringprep's (RFC 3920 App. A.5), and ASCII space (C.1.1). */
const NODEPREP_PROHIBITED_ASCII = /[ "&'/:<>@]/;

/** Controls, format characters (bidi overrides and isolates, zero-width), private use, unassigned,
 *  surrogates, and every kind of space. */
const HIDDEN = /[\p{C}\p{Z}]/u;

/** Whether a strict server would take `local` as a JID's local part as it stands. */
function validLocalPart(local: string): boolean {
  return local.search(UNASSIGNED_IN_3_2) === -1 && !STRINGPREP_PROHIBITED.test(local) && !NODEPREP_PROHIBITED_ASCII.test(local) && followsBidiRule(local);
}

/** The room's name to show (its subject until the user changes it), or a refusal in words. */
export function roomName(local: string): string {
  if (!validLocalPart(local)) {
    throw gatewayError(
      "bad-request",
      "This group chat's name is not a valid address: XMPP addresses (nodeprep, RFC 3920) cannot hold control, invisible or direction-changing characters, spaces, characters newer than Unicode 3.2, or right-to-left text mixed with left-to-right letters. Choose another name.",
    );
  }
  const length = [...local].length;
  if (length > MAX_ROOM_NAME) {
    throw gatewayError("not-acceptable", `A group chat's name here has at most ${MAX_ROOM_NAME} characters; this one has ${length}. Choose a shorter name.`);
  }
  if (HIDDEN.test(local)) {
    throw gatewayError("not-acceptable", "A group chat's name here cannot hold invisible or formatting characters. Choose another name.");
  }
  // "|" separates the parts of the store's keys; "\" begins the escapes of XEP-0106.
  if (/[|\\]/.test(local)) throw gatewayError("not-acceptable", 'A group chat\'s name here cannot hold "|" or "\\". Choose another name.');
  return local;
}
