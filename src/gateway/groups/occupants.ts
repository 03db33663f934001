// Who is in which room right now: the user's resources that joined, with their nicks. Held in
// memory by the instance that holds the domain; after a restart clients find out by XEP-0410
// self-pings (answered not-acceptable) and join again.
export interface Occupants {
  join(user: string, local: string, full: string, nick: string): void;
  leave(user: string, local: string, full: string): string | undefined;
  nickOf(user: string, local: string, full: string): string | undefined;
  /** The joined resources of the user in the room, with their nicks. */
  of(user: string, local: string): Array<[full: string, nick: string]>;
  forget(user: string): void;
  /** Everyone in every room, emptied: [user, room local part, full JID, nick]. */
  drain(): Array<[user: string, local: string, full: string, nick: string]>;
}

export function createOccupants(): Occupants {
  const rooms = new Map<string, Map<string, string>>();
  const key = (user: string, local: string): string => `${user}|${local}`;
  return {
    join(user, local, full, nick) {
      const room = rooms.get(key(user, local)) ?? new Map<string, string>();
      rooms.set(key(user, local), room);
      room.set(full, nick);
    },
    leave(user, local, full) {
      const room = rooms.get(key(user, local));
      const nick = room?.get(full);
      room?.delete(full);
      if (room?.size === 0) rooms.delete(key(user, local));
      return nick;
    },
    nickOf: (user, local, full) => rooms.get(key(user, local))?.get(full),
    of: (user, local) => [...(rooms.get(key(user, local)) ?? new Map<string, string>())],
    drain() {
      const all: Array<[string, string, string, string]> = [];
      for (const [name, room] of rooms) {
        const bar = name.lastIndexOf("|");
        for (const [full, nick] of room) all.push([name.slice(0, bar), name.slice(bar + 1), full, nick]);
      }
      rooms.clear();
      return all;
    },
    forget(user) {
      for (const name of rooms.keys()) if (name.startsWith(`${user}|`)) rooms.delete(name);
    },
  };
}
