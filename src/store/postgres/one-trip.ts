// One round trip instead of five for a keyed ledger call on PostgreSQL. Sent as one simple query
// (several statements, values as escaped literals), the lock and the write run in one implicit
// transaction: the advisory lock is held until it commits, and the write, a later statement,
// reads with a snapshot taken after the lock was granted, so it sees what the previous holder of
// the key committed. Without parameters pg uses the simple protocol, which allows several statements.
import pg from "pg";

export type Literal = string | number;

/** Fills $1, $2… of `text` with escaped literals (strings quoted, numbers checked to be integers). */
export function withLiterals(text: string, values: readonly Literal[]): string {
  return text.replace(/\$(\d+)/g, (_, index: string) => {
    const value = values[Number(index) - 1];
    if (value === undefined) throw new Error(`no value for $${index}`);
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) throw new Error(`$${index} is not an integer`);
      return String(value);
    }
    return pg.escapeLiteral(value);
  });
}

/** Runs `statement` while holding the transaction-scoped advisory lock of `lockKey`, in one round
 *  trip; returns the row count of the statement. */
export async function lockedStatement(pool: pg.Pool, lockKey: string, statement: string, values: readonly Literal[]): Promise<number> {
  const text = `${withLiterals("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [lockKey])};\n${withLiterals(statement, values)}`;
  const results = (await pool.query(text)) as unknown as pg.QueryResult[];
  return results[results.length - 1]?.rowCount ?? 0;
}
