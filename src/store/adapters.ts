// Picks the keyv engine from the store URI and tunes it.
import type { KeyvStoreAdapter } from "keyv";
import type { Logger } from "pino";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

export async function openAdapter(uri: string, log: Logger): Promise<KeyvStoreAdapter> {
  const scheme = uri.slice(0, uri.indexOf(":")).toLowerCase();
  switch (scheme) {
    case "sqlite":
      return openSqlite(uri, log);
    case "redis":
    case "rediss": {
      const { default: KeyvRedis } = await import("@keyv/redis");
      return new KeyvRedis(uri) as unknown as KeyvStoreAdapter;
    }
    case "postgres":
    case "postgresql": {
      const { default: KeyvPostgres } = await import("@keyv/postgres");
      return new KeyvPostgres({ uri, iterationLimit: 500 }) as unknown as KeyvStoreAdapter;
    }
    default:
      throw new Error(`store.uri: unknown engine "${scheme}" (use sqlite://FILE, redis://… or postgresql://…)`);
  }
}

async function openSqlite(uri: string, log: Logger): Promise<KeyvStoreAdapter> {
  const { default: KeyvSqlite } = await import("@keyv/sqlite");
  const file = uri.replace(/^sqlite:\/\//i, "");
  if (file !== ":memory:") mkdirSync(dirname(resolve(file)), { recursive: true });
  const adapter = new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 10_000, iterationLimit: 500 });
  // WAL with synchronous=NORMAL survives a process crash and writes ~10x faster than the default journal.
  await adapter.query("PRAGMA journal_mode=WAL");
  await adapter.query("PRAGMA synchronous=NORMAL");
  // The adapter reads a row back before deleting it; nothing here needs to know whether it was
  // there, and the extra statement showed up in every message's cost.
  const table = (adapter.opts as { table: string }).table;
  adapter.delete = async (key: string) => {
    await adapter.query(`DELETE FROM ${table} WHERE key = ?`, key);
    return true;
  };
  log.debug({ file }, "sqlite store open");
  return adapter as unknown as KeyvStoreAdapter;
}
