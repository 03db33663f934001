// A store table in memory, for tests of one module without a store: values are copied in and out,
// as a real store's are serialised.
import type { Table } from "../../src/store/store.js";

export function memoryTable<T>(): Table<T> & { map: Map<string, T> } {
  const map = new Map<string, T>();
  return {
    map,
    get: async (key) => (map.has(key) ? structuredClone(map.get(key)) : undefined),
    getMany: async (keys) => keys.map((key) => (map.has(key) ? structuredClone(map.get(key)) : undefined)),
    set: async (key, value) => void map.set(key, structuredClone(value)),
    delete: async (key) => map.delete(key),
    has: async (key) => map.has(key),
    async insert(key, value) {
      if (map.has(key)) return false;
      map.set(key, structuredClone(value));
      return true;
    },
    async deletePrefix(prefix) {
      const keys = [...map.keys()].filter((key) => key.startsWith(prefix));
      for (const key of keys) map.delete(key);
      return keys.length;
    },
    async *entries() {
      yield* map.entries();
    },
  };
}
