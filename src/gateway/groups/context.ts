// What the parts of the group chats share.
import type { KeyedQueue } from "../../transport/keyed-queue.js";
import type { BareJid } from "../../xmpp/jid.js";
import type { Gateway } from "../gateway.js";
import type { Bookmarks } from "./bookmarks.js";
import type { NamedRooms } from "./named-rooms.js";
import type { Occupants } from "./occupants.js";
import type { RoomStore } from "./room-store.js";

export interface GroupContext {
  gateway: Gateway;
  rooms: RoomStore;
  occupants: Occupants;
  /** Work on one room (appending to its history, changing it) runs one at a time, by user|room. */
  perRoom: KeyedQueue;
  /** A reason to keep a message from this sender out of XMPP (the user's policy), or nothing. */
  filter(user: BareJid, peer: string): Promise<string | undefined>;
  roomJid(local: string): string;
  bookmarks: Bookmarks;
  named: NamedRooms;
}
