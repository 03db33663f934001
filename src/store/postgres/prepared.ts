// Statements sent to PostgreSQL with a name, so that each connection parses and plans them once
// and later sends only their values. A store sends the same few dozen texts over and over; texts
// past the first hundred (none today) go unnamed rather than growing every connection's cache.
// Behind PgBouncer in transaction mode this needs its max_prepared_statements (docs/scaling.md).
import type pg from "pg";

const MAX_NAMED = 100;
const names = new Map<string, string>();

/** The query to send for `text` with `values`: named when it takes values (DDL is sent as it is). */
export function prepared(text: string, values: readonly unknown[] | undefined): pg.QueryConfig {
  if (!values || values.length === 0) return { text };
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `switchboard_${names.size}`;
    names.set(text, name);
  }
  return name === undefined ? { text, values: [...values] } : { name, text, values: [...values] };
}
