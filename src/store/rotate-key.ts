// `switchboard rotate-key`: re-seals every stored secret with the current key (store.secretKey), so
// that the keys in store.previousSecretKeys can be dropped afterwards.
import type { Config } from "../config/schema.js";
import { createLogger } from "../log.js";
import { loadTransportModule } from "../load-transport.js";
import { createSecretBox, isSealed, type SecretBox } from "./secrets.js";
import { openStore, type Store } from "./store.js";

export interface RotationReport {
  /** Secrets sealed by an old key (or the old format) and now sealed by the current key. */
  resealed: number;
  /** Secrets already sealed by the current key. */
  current: number;
  /** Secrets no key of the ring opens, as "table key field"; they are left as they are. */
  unreadable: string[];
}

/** Records as registrations keep them: their secrets are among `fields`. */
interface WithFields {
  fields?: Record<string, unknown>;
}

export async function resealTables(store: Store, box: SecretBox, tables: readonly string[]): Promise<RotationReport> {
  const report: RotationReport = { resealed: 0, current: 0, unreadable: [] };
  for (const name of tables) {
    const table = store.table<WithFields>(name);
    // Collected first: the SQLite engine pages its listing with OFFSET, and writes while it lists
    // are better kept out of its way.
    const records: Array<[string, WithFields]> = [];
    for await (const entry of table.entries()) records.push(entry);
    for (const [key, record] of records) {
      if (!record?.fields || typeof record.fields !== "object") continue;
      let changed = false;
      const fields = { ...record.fields };
      for (const [field, value] of Object.entries(fields)) {
        if (typeof value !== "string" || !isSealed(value)) continue;
        if (!box.isStale(value)) {
          report.current += 1;
          continue;
        }
        try {
          fields[field] = box.seal(box.open(value));
          changed = true;
          report.resealed += 1;
        } catch {
          report.unreadable.push(`${name} ${key} ${field}`);
        }
      }
      if (changed) await table.set(key, { ...record, fields });
    }
  }
  return report;
}

/** The command: re-seals the registrations of every configured transport; prints what it did. */
export async function rotateKey(config: Config): Promise<number> {
  const tables: string[] = [];
  for (const [name, section] of Object.entries(config.transports)) tables.push(`${(await loadTransportModule(name, section)).name}.registrations`);
  const store = await openStore(config.store.uri, createLogger("warn"));
  try {
    const box = createSecretBox(config.store.secretKey, config.store.previousSecretKeys);
    const report = await resealTables(store, box, tables);
    console.log(
      `Re-sealed ${report.resealed} stored secret(s) with the current key; ${report.current} already used it; ${report.unreadable.length} could not be opened with any key.`,
    );
    if (report.unreadable.length > 0) {
      console.log(`Left as they are (their users are told to register again):\n  ${report.unreadable.join("\n  ")}`);
      return 1;
    }
    if (config.store.previousSecretKeys.length > 0)
      console.log("Every stored secret now uses the current key: previousSecretKeys can be removed from the config.");
    return 0;
  } finally {
    await store.close();
  }
}
