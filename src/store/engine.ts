// Picks the store's engine from its URI: the keyv adapter for mappings and the ledger for what
// moves, on one SQLite file (embedded default) or one PostgreSQL database (shared by instances).
import type { Logger } from "pino";
import { openAdapter, type StoreAdapter } from "./adapters.js";
import type { Ledger } from "./ledger/ledger.js";
import { openPgLedger } from "./postgres/ledger.js";
import { openSqliteFile, statementCache, type SyncMode } from "./sqlite/database.js";
import { SqliteKeyvAdapter } from "./sqlite/keyv-adapter.js";
import { openSqliteLedger } from "./sqlite/ledger.js";

export interface StoreEngine {
  adapter: StoreAdapter;
  ledger: Ledger;
  close(): Promise<void>;
}

export async function openEngine(uri: string, log: Logger, options: { sync?: SyncMode } = {}): Promise<StoreEngine> {
  if (/^sqlite:/i.test(uri)) {
    const file = uri.replace(/^sqlite:(\/\/)?/i, "");
    const db = openSqliteFile(file, options.sync);
    const sql = statementCache(db);
    const adapter = new SqliteKeyvAdapter(db, sql);
    const ledger = openSqliteLedger(db, sql);
    log.debug({ file, sync: options.sync ?? "normal" }, "sqlite store open");
    return {
      adapter: adapter as unknown as StoreAdapter,
      ledger,
      async close() {
        if (!db.open) return;
        sql.flush();
        db.close();
      },
    };
  }
  const adapter = await openAdapter(uri, log);
  const ledger = await openPgLedger(uri);
  return {
    adapter,
    ledger,
    async close() {
      await ledger.close();
    },
  };
}
