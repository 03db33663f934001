// The mapping store: named tables over one keyv instance, SQLite by default.
import Keyv, { type KeyvStoreAdapter } from "keyv";
import type { Logger } from "pino";
import type { StoreAdapter } from "./adapters.js";
import { openEngine } from "./engine.js";
import { rowReader, serializeRow } from "./keyv-format.js";
import { guardLedger } from "./ledger/guard.js";
import { StoreUnavailableError } from "./unavailable.js";
import type { Ledger } from "./ledger/ledger.js";
import type { SyncMode } from "./sqlite/database.js";

/** Calls on one key take effect in the order they were made, awaited or not: a get sees every set
 *  and delete of its key made before it. entries() and deletePrefix() are not so ordered. */
export interface Table<T> {
  get(key: string): Promise<T | undefined>;
  /** The values of several keys in one statement (one round trip on PostgreSQL), in their order. */
  getMany(keys: string[]): Promise<Array<T | undefined>>;
  set(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  /** Stores `value` only if `key` holds nothing (or an expired value); true if this call stored it.
   *  A unique claim: of many callers at once, in any instance, exactly one gets true. */
  insert(key: string, value: T): Promise<boolean>;
  entries(): AsyncIterable<[string, T]>;
  /** Removes every key that starts with `prefix` (one statement where the engine allows); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
}

export interface Store {
  /** A named table of mappings (keyv). */
  table<T>(name: string): Table<T>;
  /** The ledger: outbox, inbox, ids seen. */
  ledger: Ledger;
  close(): Promise<void>;
}

interface Serialized {
  value: unknown;
  expires?: number | null;
}

const TABLE_NAME = /^[a-z0-9.-]+$/;

export async function openStore(uri: string, log: Logger, options: { sync?: SyncMode } = {}): Promise<Store> {
  const engine = await openEngine(uri, log, options);
  const adapter = engine.adapter;
  // keyv's own type knows no iterator that yields pairs; ours do, so the cast only widens.
  // throwOnErrors: by default keyv answers a read the database failed (a restart, a lost
  // connection) as "no such key", which made a webhook for a registered number look like one for
  // nobody and be dropped. A failure must be one: the guard below turns it into "try again later".
  const keyv = new Keyv({ store: adapter as unknown as KeyvStoreAdapter, useKeyPrefix: false, namespace: "", throwOnErrors: true });
  keyv.on("error", (error: unknown) => log.error({ err: error }, "store error"));
  // keyv's own reader stays for rows an earlier release wrote (see keyv-format.ts).
  const earlierRows = keyv.deserialize;
  if (!earlierRows) throw new Error("keyv came without its row reader");
  keyv.deserialize = rowReader(earlierRows);
  keyv.serialize = serializeRow;
  // Shared by every table object of this store (one name may have several): see createTable.
  const writing = new Map<string, Promise<unknown>>();

  return {
    table<T>(name: string): Table<T> {
      // Table names become LIKE prefixes in SQL adapters, so keep them free of wildcards.
      if (!TABLE_NAME.test(name)) throw new Error(`invalid store table name "${name}"`);
      return createTable<T>(keyv, adapter, name, writing);
    },
    ledger: guardLedger(engine.ledger),
    async close() {
      await keyv.disconnect();
      await engine.close();
    },
  };
}

export { StoreUnavailableError };

/** `writing`: the last write still under way on each full key, shared by the store's tables. */
function createTable<T>(keyv: Keyv, adapter: StoreAdapter, name: string, writing: Map<string, Promise<unknown>>): Table<T> {
  const fullKey = (key: string): string => `${name}:${key}`;
  const guard = async <R>(operation: () => Promise<R>): Promise<R> => {
    try {
      return await operation();
    } catch (error) {
      throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error);
    }
  };
  // keyv takes more steps to write than to read (it serializes first), and on PostgreSQL a write
  // waits for its turn's shared round trip: a read made after a write not yet awaited could reach
  // the database first and see the older value, and of two writes the later could land first.
  // Reads and writes of a key wait for the writes made on it before them.
  const write = <R>(shortKey: string, operation: () => Promise<R>): Promise<R> => {
    const key = fullKey(shortKey);
    const before = writing.get(key);
    const result = before ? before.then(() => guard(operation)) : guard(operation);
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    writing.set(key, done);
    void done.then(() => {
      if (writing.get(key) === done) writing.delete(key);
    });
    return result;
  };
  /** Reads `keys` once the writes under way on them are done (at once, not a tick later, when none is). */
  const read = <R>(keys: readonly string[], operation: () => Promise<R>): Promise<R> => {
    const pending = writing.size === 0 ? [] : keys.map((key) => writing.get(fullKey(key))).filter((promise) => promise !== undefined);
    return pending.length > 0 ? Promise.all(pending).then(() => guard(operation)) : guard(operation);
  };
  return {
    get(key) {
      return read([key], async () => (await keyv.get<T>(fullKey(key))) ?? undefined);
    },
    async getMany(keys) {
      if (keys.length === 0) return [];
      return read(keys, async () => (await keyv.getMany<T>(keys.map(fullKey))).map((value) => value ?? undefined));
    },
    set(key, value, ttlMs) {
      return write(key, async () => {
        // keyv reports a failed write as `false` (and an "error" event), not as an exception.
        const ok = await keyv.set(fullKey(key), value, ttlMs);
        if (!ok) throw new Error(`the store did not save ${name}:${key}`);
      });
    },
    delete(key) {
      return write(key, () => keyv.delete(fullKey(key)));
    },
    has(key) {
      return read([key], () => keyv.has(fullKey(key)));
    },
    insert(key, value) {
      return write(key, async () => {
        const serialized = await keyv.serializeData({ value });
        return adapter.insertIfAbsent(fullKey(key), String(serialized), Date.now());
      });
    },
    async deletePrefix(prefix) {
      return guard(() => adapter.deletePrefix(fullKey(prefix)));
    },
    async *entries() {
      const now = Date.now();
      for await (const [key, raw] of adapter.iterator(name)) {
        const data = (await keyv.deserializeData(raw)) as Serialized | undefined;
        if (!data || (typeof data.expires === "number" && data.expires <= now)) continue;
        yield [key.slice(name.length + 1), data.value as T];
      }
    },
  };
}
