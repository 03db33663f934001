// keyv's store interface over better-sqlite3: the same `keyv(key, value)` table as @keyv/sqlite
// wrote (so a store from release 0.1.0 opens unchanged), with every statement prepared once and
// listing paged by key, so rows deleted while listing never make it skip others.
import { EventEmitter } from "node:events";
import type { StatementCache } from "./database.js";
import type { SqliteDatabase } from "./database.js";

const PAGE = 500;

export class SqliteKeyvAdapter extends EventEmitter {
  readonly opts = { table: "keyv", dialect: "sqlite" };
  namespace?: string;

  constructor(
    db: SqliteDatabase,
    private readonly sql: StatementCache,
  ) {
    super();
    db.exec("CREATE TABLE IF NOT EXISTS keyv (key VARCHAR(255) PRIMARY KEY, value TEXT)");
  }

  async get(key: string): Promise<string | undefined> {
    return (this.sql.statement("SELECT value FROM keyv WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  }

  /** One statement for all the keys. */
  async getMany(keys: string[]): Promise<Array<string | undefined>> {
    const rows = this.sql.statement("SELECT key, value FROM keyv WHERE key IN (SELECT value FROM json_each(?))").all(JSON.stringify(keys)) as Array<{
      key: string;
      value: string;
    }>;
    const found = new Map(rows.map((row) => [row.key, row.value]));
    return keys.map((key) => found.get(key));
  }

  async set(key: string, value: string): Promise<void> {
    await this.sql.write(() =>
      this.sql.statement("INSERT INTO keyv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value),
    );
  }

  async delete(key: string): Promise<boolean> {
    return this.sql.write(() => this.sql.statement("DELETE FROM keyv WHERE key = ?").run(key).changes > 0);
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    return this.sql.write(() => {
      let any = false;
      for (const key of keys) any = this.sql.statement("DELETE FROM keyv WHERE key = ?").run(key).changes > 0 || any;
      return any;
    });
  }

  async clear(): Promise<void> {
    if (this.namespace) await this.deletePrefix(`${this.namespace}:`);
    else await this.sql.write(() => this.sql.statement("DELETE FROM keyv").run());
  }

  async has(key: string): Promise<boolean> {
    return this.sql.statement("SELECT 1 FROM keyv WHERE key = ?").get(key) !== undefined;
  }

  /** Rows whose key starts with `namespace:`, in key order, one page at a time. */
  async *iterator(namespace?: string): AsyncGenerator<[string, string], void> {
    const prefix = namespace ? `${namespace}:` : "";
    let after = prefix;
    for (;;) {
      const rows = this.sql
        .statement("SELECT key, value FROM keyv WHERE key > ? AND key < ? ORDER BY key LIMIT ?")
        .all(after, `${prefix}\u{10FFFF}`, PAGE) as Array<{ key: string; value: string }>;
      for (const row of rows) yield [row.key, row.value];
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  /** Stores a key only where none is, or only an expired one: one statement, so one caller wins. */
  async insertIfAbsent(key: string, serialized: string, now: number): Promise<boolean> {
    return this.sql.write(
      () =>
        this.sql
          .statement(
            `INSERT INTO keyv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value
             WHERE json_extract(keyv.value, '$.expires') <= ? RETURNING key`,
          )
          .all(key, serialized, now).length > 0,
    );
  }

  /** Deletes every row under a prefix in one statement. */
  deletePrefix(prefix: string): Promise<number> {
    return this.sql.write(() => this.sql.statement("DELETE FROM keyv WHERE key >= ? AND key < ?").run(prefix, `${prefix}\u{10FFFF}`).changes);
  }

  async disconnect(): Promise<void> {
    // The database is closed by the store that opened it.
  }
}
