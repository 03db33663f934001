// Room JIDs: one per user and conversation. Their local parts are tokens that no address codec
// accepts (no @, no \40, no %), so a room never shadows a contact.
import { createHash } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const ROOM_LOCAL = /^thread-[a-z2-7]{32}$/;

/** RFC 4648 base32, lower case, without padding. */
function base32(bytes: Buffer): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** The room's local part for this user's conversation `key` (the user is in the hash, so another
 *  user cannot reach it by knowing the thread). */
export function roomLocalOf(user: string, key: string): string {
  return `thread-${base32(createHash("sha256").update(`${user}\u0000${key}`).digest().subarray(0, 20))}`;
}

export function isRoomLocal(local: string): boolean {
  return ROOM_LOCAL.test(local);
}
