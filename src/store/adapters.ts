// The keyv engine for a PostgreSQL store, tuned; the SQLite one is src/store/sqlite/keyv-adapter.ts.
import type { KeyvStoreAdapter } from "keyv";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { Literal } from "./postgres/one-trip.js";
import { prepared } from "./postgres/prepared.js";
import { createTurnBatch } from "./postgres/turn-batch.js";

/** What the store needs of a keyv engine beyond keyv's own interface; both engines here have it. */
export type StoreAdapter = Omit<KeyvStoreAdapter, "iterator"> & {
  /** Stores `serialized` (keyv's `{value, expires}` JSON) under `key` only where no row is, or only
   *  an expired one: one statement, so of two writers (two instances, two requests) one wins. */
  insertIfAbsent(key: string, serialized: string, now: number): Promise<boolean>;
  /** Deletes every key that starts with `prefix`, in one statement; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Rows under `namespace:` in key order, paged by key (rows deleted meanwhile skip nothing). */
  iterator(namespace: string): AsyncGenerator<[string, string], void>;
};

export async function openAdapter(uri: string, log: Logger): Promise<StoreAdapter> {
  const scheme = uri.slice(0, uri.indexOf(":")).toLowerCase();
  switch (scheme) {
    case "postgres":
    case "postgresql":
      return openPostgres(uri, log);
    default:
      throw new Error(`store.uri: ${unsupportedEngine(scheme)}`);
  }
}

const PAGE = 500;
const WRITE = /^\s*(INSERT|UPDATE|DELETE)\b/i;
const isLiteral = (value: unknown): value is Literal => typeof value === "string" || (typeof value === "number" && Number.isSafeInteger(value));

/** The sentence for a store.uri whose engine is not one of ours (the config check uses it too). */
export function unsupportedEngine(scheme: string): string {
  const redis = /^rediss?$/i.test(scheme) ? " Redis is not supported (no test ever ran it, so it was removed)." : "";
  return `"${scheme}" is not a store engine Switchboard supports.${redis} Use sqlite://FILE (embedded, the default) or postgresql://USER:PASSWORD@HOST:PORT/DATABASE.`;
}

/** The keyv adapter for PostgreSQL, with a connection pool of its own: the stock adapter shares one
 *  pool per process and ends it on any store's close, so a second store (a gateway restarted in the
 *  same process, two stores on one database) would lose its connections. */
async function openPostgres(uri: string, log: Logger): Promise<StoreAdapter> {
  const [{ default: KeyvPostgres }, { default: pg }] = await Promise.all([import("@keyv/postgres"), import("pg")]);
  let pool: Pool | undefined;
  class OwnPool extends KeyvPostgres {
    override async connect() {
      pool = new pg.Pool({ connectionString: uri, max: 10 });
      // An idle connection that breaks (server restart, network) is reported here; unhandled, it
      // would end the process. The next query opens a new connection, or fails and is answered.
      // Only code and sentence: the error carries its connection, whose settings hold the password.
      pool.on("error", (error: Error & { code?: string }) => log.warn({ code: error.code, reason: error.message }, "postgresql connection lost"));
      const own = pool;
      const batch = createTurnBatch(own);
      return async (sql: string, values?: unknown[]) => {
        // A write of one turn shares the turn's round trip and commit with the others (turn-batch.ts);
        // reads, and writes of arrays (keyv's setMany), go by themselves as named statements.
        if (WRITE.test(sql) && values && values.length > 0 && values.every(isLiteral))
          return (await batch.run(String(values[0]), false, sql, values as Literal[])).rows;
        return (await own.query(prepared(sql, values))).rows;
      };
    }
    override async disconnect() {
      await pool?.end();
    }
  }
  // Keys are table:key with addresses, JIDs and message ids in them, longer than the default
  // VARCHAR(255); a B-tree entry holds up to about 2,700 bytes.
  const adapter = new OwnPool({ uri, iterationLimit: 500, keySize: 2048 });
  // The adapter reports a failed CREATE TABLE as an "error" event before keyv listens to it; an
  // event nobody listens to would be thrown from a promise and end the process.
  adapter.on("error", (error: Error & { code?: string }) => log.error({ code: error.code, reason: error.message }, "postgresql store error"));
  const { schema, table } = adapter.opts as { schema: string; table: string };
  const qualified = `${schema}.${table}`;
  // Fail here, not at the first message, when the database cannot be reached or the table made.
  await adapter.query(`SELECT 1 FROM ${qualified} LIMIT 1`);
  // The stock delete reads the row before deleting it: one statement does both.
  adapter.delete = async (key: string) => {
    const rows = (await adapter.query(`DELETE FROM ${qualified} WHERE key = $1 RETURNING key`, [key])) as unknown[];
    return rows.length > 0;
  };
  const extra: Pick<StoreAdapter, "insertIfAbsent" | "deletePrefix" | "iterator"> = {
    // The upsert only replaces a row whose value has expired; RETURNING says whether a row was written.
    async insertIfAbsent(key, serialized, now) {
      const rows = (await adapter.query(
        `INSERT INTO ${qualified} AS stored (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value
         WHERE (stored.value::json->>'expires')::bigint <= $3::bigint RETURNING key`,
        [key, serialized, now],
      )) as unknown[];
      return rows.length > 0;
    },
    async deletePrefix(prefix) {
      return ((await adapter.query(`DELETE FROM ${qualified} WHERE left(key, length($1)) = $1 RETURNING key`, [prefix])) as unknown[]).length;
    },
    // The stock iterator pages with OFFSET, which skips rows when others are deleted meanwhile.
    async *iterator(namespace): AsyncGenerator<[string, string], void> {
      const prefix = `${namespace}:`;
      for (let after = prefix; ; ) {
        const rows = (await adapter.query(
          `SELECT key, value FROM ${qualified} WHERE left(key, length($1)) = $1 AND key COLLATE "C" > $2 ORDER BY key COLLATE "C" LIMIT ${PAGE}`,
          [prefix, after],
        )) as Array<{ key: string; value: string }>;
        for (const row of rows) yield [row.key, row.value];
        if (rows.length < PAGE) return;
        after = rows[rows.length - 1]!.key;
      }
    },
  };
  Object.assign(adapter, extra);
  log.debug({ schema, table }, "postgresql store open");
  return adapter as unknown as StoreAdapter;
}
