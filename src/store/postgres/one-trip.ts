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
    // The simple protocol sends the text as a C string, which a NUL would cut short; PostgreSQL's
    // text holds none anyway (a parameter with one is refused too).
    if (value.includes("\0")) throw new Error(`$${index} holds a NUL character, which PostgreSQL text cannot hold`);
    return pg.escapeLiteral(value);
  });
}

/** The text of `statement` with its values, after the statement that takes the transaction-scoped
 *  advisory lock of `lockKey` (none when it is undefined). */
export function lockedText(lockKey: string | undefined, statement: string, values: readonly Literal[]): string {
  const write = withLiterals(statement, values);
  return lockKey === undefined ? write : `${withLiterals("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [lockKey])};\n${write}`;
}
