// Rooms the user made by joining a JID of their choosing: which names they own (bounded), and for
// each the conversation key's own room local part, by which the transport's answers find the name.
import type { Table } from "../../store/store.js";

export interface NamedRooms {
  /** The named room a conversation's hashed local part stands for, if any. */
  aliasOf(user: string, hashed: string): Promise<string | undefined>;
  names(user: string): Promise<string[]>;
  add(user: string, local: string, hashed: string): Promise<void>;
  /** The room was destroyed: its name is free, and its conversation no longer leads to it. */
  remove(user: string, local: string, hashed: string): Promise<void>;
  forget(user: string): Promise<void>;
}

export function createNamedRooms(tables: { names: Table<string[]>; aliases: Table<string> }): NamedRooms {
  const { names, aliases } = tables;
  const listKey = (user: string): string => `${user}|`;
  const aliasKey = (user: string, hashed: string): string => `${user}|${hashed}`;
  return {
    aliasOf: (user, hashed) => aliases.get(aliasKey(user, hashed)),
    async names(user) {
      return (await names.get(listKey(user))) ?? [];
    },
    async add(user, local, hashed) {
      const list = (await names.get(listKey(user))) ?? [];
      await aliases.set(aliasKey(user, hashed), local);
      if (!list.includes(local)) await names.set(listKey(user), [...list, local]);
    },
    async remove(user, local, hashed) {
      await aliases.delete(aliasKey(user, hashed));
      const list = (await names.get(listKey(user))) ?? [];
      await names.set(
        listKey(user),
        list.filter((name) => name !== local),
      );
    },
    async forget(user) {
      await Promise.all([names.deletePrefix(`${user}|`), aliases.deletePrefix(`${user}|`)]);
    },
  };
}
