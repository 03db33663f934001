// Group chats hosted by a transport's component (XEP-0045), one per conversation with several
// people (a mail thread with more than one party besides the user). See docs/groups.md.
import type { Table } from "../../store/store.js";
import type { ParsedJid } from "../../xmpp/jid.js";
import type { Delivery, InboundMessage } from "../../transport/contract.js";
import { createKeyedQueue } from "../../transport/keyed-queue.js";
import type { BareJid } from "../../xmpp/jid.js";
import type { Gateway } from "../gateway.js";
import type { Element } from "../../xmpp/xml.js";
import type { Router } from "../router.js";
import type { Command } from "../handlers/commands/command.js";
import { createBookmarks } from "./bookmarks.js";
import { createNamedRooms } from "./named-rooms.js";
import { newGroupCommand } from "./new-group.js";
import type { GroupContext } from "./context.js";
import { onRoomPresence } from "./join.js";
import { registerLeave } from "./leave.js";
import { createOccupants } from "./occupants.js";
import { isRoomLocal } from "./room-id.js";
import { registerRoomIqs } from "./room-disco.js";
import { roomTarget } from "./room-target.js";
import { deliverToRoom } from "./room-in.js";
import { onRoomMessage, type RoomOutDeps } from "./room-out.js";
import { createRoomStore, type HistoryEntry, type Room } from "./room-store.js";
import { occupantPresence } from "./stanzas.js";

export { isRoomLocal };

/** Messages kept per room unless the operator says otherwise (limits.roomHistory). */
export const DEFAULT_ROOM_HISTORY = 1_000;

export interface Groups {
  /** A message of a group conversation from the transport (InboundMessage.group is set). */
  deliver(message: InboundMessage & { group: NonNullable<InboundMessage["group"]> }): Promise<Delivery>;
  /** Everything kept for the user (when they unregister). */
  forget(user: BareJid): Promise<void>;
  /** The server's message that lists the component's privileges (XEP-0356). */
  updatePrivileges(message: Element): void;
  /** The gateway stops: joined clients are told (status 332), so that they join again later. */
  withdraw(): Promise<void>;
  /** The user commands of group chats (starting one), for a transport that carries them. */
  readonly commands: Command[];
  /** Whether a stanza to this local part is for a room (the router's question, room-target.ts). */
  isRoom(local: string, from: ParsedJid, stanza: Element): Promise<boolean>;
}

export interface GroupsOptions extends RoomOutDeps {
  gateway: Gateway;
  table: <T>(name: string) => Table<T>;
  filter(user: BareJid, peer: string): Promise<string | undefined>;
  historyLimit: () => number;
  /** An iq to the server, resolving with its answer (for privileged bookmark updates). */
  request(iq: Element): Promise<Element>;
}

export function registerGroups(router: Router, options: GroupsOptions): Groups {
  const { gateway, table } = options;
  const context: GroupContext = {
    gateway,
    rooms: createRoomStore(
      { rooms: table<Room>("rooms"), history: table<HistoryEntry>("room-history"), sources: table<string>("room-sources") },
      options.historyLimit,
    ),
    occupants: createOccupants(),
    perRoom: createKeyedQueue(),
    filter: options.filter,
    roomJid: (local) => `${local}@${gateway.domain}`,
    bookmarks: createBookmarks({ domain: gateway.domain, log: gateway.log, request: options.request }),
    named: createNamedRooms({ names: table<string[]>("room-names"), aliases: table<string>("room-aliases") }),
  };
  const isRoom = roomTarget(context);
  router.onPresence((request) => onRoomPresence(context, request), "room");
  router.onMessage((request) => onRoomMessage(context, options, request), "room");
  registerRoomIqs(router, context);
  registerLeave(router, context);
  return {
    deliver: (message) => deliverToRoom(context, message),
    isRoom,
    commands: gateway.transport.capabilities.groups ? [newGroupCommand(context)] : [],
    updatePrivileges: (message) => context.bookmarks.updatePrivileges(message),
    async withdraw() {
      for (const [, local, full, nick] of context.occupants.drain()) {
        await gateway.send(
          occupantPresence(context.roomJid(local), nick, full, { jid: full, affiliation: "owner", role: "none" }, { codes: [110, 332], unavailable: true }),
        );
      }
    },
    async forget(user) {
      context.occupants.forget(user);
      await context.rooms.forget(user);
      await context.named.forget(user);
    },
  };
}
