// The name a user gives a room by joining a JID that does not exist yet: its local part, which the
// XMPP server has already put through nodeprep. What nodeprep lets through (unassigned code points
// such as the bidi isolates, zero-width characters, very long names) is refused here in words.
import { gatewayError } from "../../errors.js";

/** Code points; long enough for a name, short enough for a subject line and a bookmark. */
export const MAX_ROOM_NAME = 64;

/** Controls, format characters (bidi overrides and isolates, zero-width), private use, unassigned,
 *  surrogates, and every kind of space. */
const HIDDEN = /[\p{C}\p{Z}]/u;

/** The room's name to show (its subject until the user changes it), or a refusal in words. */
export function roomName(local: string): string {
  const length = [...local].length;
  if (length > MAX_ROOM_NAME) {
    throw gatewayError("not-acceptable", `A group chat's name here has at most ${MAX_ROOM_NAME} characters; this one has ${length}. Choose a shorter name.`);
  }
  if (HIDDEN.test(local)) {
    throw gatewayError(
      "not-acceptable",
      "A group chat's name here cannot hold control characters, invisible or direction-changing characters, or spaces. Choose another name.",
    );
  }
  // "|" separates the parts of the store's keys; "\" begins the escapes of XEP-0106.
  if (/[|\\]/.test(local)) throw gatewayError("not-acceptable", 'A group chat\'s name here cannot hold "|" or "\\". Choose another name.');
  return local;
}
