// The ledger on the embedded SQLite file: prepared statements, each call's statements all or
// nothing, the writes of one event-loop tick committed together (one sync to disk), and the
// schema migrated forward at open (including the queues release 0.1.0 kept as keyv rows).
import { inDueOrder, type Claim, type Ledger, type SeenKind, type TransportLedger } from "../ledger/ledger.js";
import { LEDGER_TABLES, MIGRATIONS } from "../ledger/schema.js";
import { importKeyvQueues } from "../ledger/import-keyv.js";
import type { SqliteDatabase, StatementCache } from "./database.js";
import { sqliteIntake } from "./intake.js";

export function openSqliteLedger(db: SqliteDatabase, sql: StatementCache): Ledger {
  migrate(db, sql);
  const json = (value: unknown): string => JSON.stringify(value ?? null);
  const parse = <T>(text: string): T => JSON.parse(text) as T;

  const forTransport = (transport: string): TransportLedger => ({
    outboxAdd(id, user, peer, dueAt, entry, now, claim) {
      return sql.write(
        () =>
          sql
            .statement(
              `INSERT INTO outbox (transport, id, user_jid, peer, due_at, entry, claimed_by, claimed_until, taken_at)
           SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS
             (SELECT 1 FROM seen WHERE transport = ? AND kind = 'out' AND seen_key = ? AND expires_at > ?)
           ON CONFLICT DO NOTHING`,
            )
            .run(transport, id, user, peer, dueAt, json(entry), claim.owner, claim.until, now, transport, id, now).changes > 0,
      );
    },
    outboxFinish(id, user, expiresAt) {
      return sql.write(() =>
        sql.transaction(() => {
          sql.statement("DELETE FROM outbox WHERE transport = ? AND id = ?").run(transport, id);
          putSeen(transport, "out", id, user, null, expiresAt);
        }),
      );
    },
    outboxClaim<E>(now: number, limit: number, claim: Claim) {
      // One process owns the file, so nobody else claims at the same time; the statement is the
      // PostgreSQL one without its row locks.
      return sql.write(() => {
        const rows = sql
          .statement(
            `UPDATE outbox SET claimed_by = ?, claimed_until = ?
             WHERE (transport, id) IN (
               SELECT o.transport, o.id FROM outbox o
               WHERE o.transport = ? AND o.due_at <= ? AND o.claimed_until <= ?
                 AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.transport = o.transport AND e.user_jid = o.user_jid
                                 AND e.peer = o.peer AND e.claimed_until > ? AND e.claimed_by <> ?)
               ORDER BY o.due_at, o.id LIMIT ?)
             RETURNING id, entry, due_at`,
          )
          .all(claim.owner, claim.until, transport, now, now, now, claim.owner, limit) as Array<{ id: string; entry: string; due_at: number }>;
        return inDueOrder(rows).map((row) => ({ id: row.id, entry: parse<E>(row.entry) }));
      });
    },
    async outboxRenew(ids, claim) {
      if (ids.length === 0) return;
      await sql.write(() =>
        sql.transaction(() => {
          const renew = sql.statement("UPDATE outbox SET claimed_until = ? WHERE transport = ? AND id = ? AND claimed_by = ?");
          for (const id of ids) renew.run(claim.until, transport, id, claim.owner);
        }),
      );
    },
    outboxReleaseOthers(owner) {
      return sql.write(() =>
        (
          sql
            .statement("UPDATE outbox SET claimed_until = 0 WHERE transport = ? AND claimed_by <> ? AND claimed_until > 0 RETURNING id")
            .all(transport, owner) as Array<{
            id: string;
          }>
        ).map((row) => row.id),
      );
    },
    async outboxNextDue() {
      const row = sql.statement("SELECT MIN(MAX(due_at, claimed_until)) AS due FROM outbox WHERE transport = ?").get(transport) as { due: number | null };
      return row.due ?? undefined;
    },
    async outboxReschedule(id, dueAt, entry) {
      await sql.write(() =>
        sql.statement("UPDATE outbox SET due_at = ?, entry = ?, claimed_until = 0 WHERE transport = ? AND id = ?").run(dueAt, json(entry), transport, id),
      );
    },
    async outboxHas(id, now) {
      return (
        sql
          .statement(
            `SELECT 1 FROM outbox WHERE transport = ? AND id = ?
             UNION ALL SELECT 1 FROM seen WHERE transport = ? AND kind = 'out' AND seen_key = ? AND expires_at > ?`,
          )
          .get(transport, id, transport, id, now) !== undefined
      );
    },
    async outboxRemove(id) {
      await sql.write(() => sql.statement("DELETE FROM outbox WHERE transport = ? AND id = ?").run(transport, id));
    },
    async outboxCount() {
      return (sql.statement("SELECT COUNT(*) AS n FROM outbox WHERE transport = ?").get(transport) as { n: number }).n;
    },

    inboxAdd(key, user, stored, now) {
      // One statement: not already waiting (the primary key) and not delivered before (seen).
      return sql.write(() =>
        sql
          .statement(
            `INSERT INTO inbox (transport, source_key, user_jid, stored, received_at)
           SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS
             (SELECT 1 FROM seen WHERE transport = ? AND kind = 'in' AND seen_key = ? AND expires_at > ?)
           ON CONFLICT DO NOTHING`,
          )
          .run(transport, key, user, json(stored), now, transport, key, now).changes > 0
          ? ("added" as const)
          : ("duplicate" as const),
      );
    },
    inboxDone(key, user, record, expiresAt) {
      return sql.write(() =>
        sql.transaction(() => {
          sql.statement("DELETE FROM inbox WHERE transport = ? AND source_key = ?").run(transport, key);
          putSeen(transport, "in", key, user, record, expiresAt);
        }),
      );
    },
    async inboxGet(key) {
      const row = sql.statement("SELECT stored FROM inbox WHERE transport = ? AND source_key = ?").get(transport, key) as { stored: string } | undefined;
      return row ? parse(row.stored) : undefined;
    },
    async inboxPage(afterKey, limit) {
      const rows = sql
        .statement("SELECT source_key, stored FROM inbox WHERE transport = ? AND source_key > ? ORDER BY source_key LIMIT ?")
        .all(transport, afterKey, limit) as Array<{ source_key: string; stored: string }>;
      return rows.map((row) => ({ key: row.source_key, stored: parse(row.stored) }));
    },

    async relayAdd(id, request, now) {
      await sql.write(() =>
        sql
          .statement("INSERT INTO relay (transport, id, received_at, due_at, request) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
          .run(transport, id, now, now, json(request)),
      );
    },
    async relayDue(now, limit) {
      const rows = sql
        .statement("SELECT id, request, attempts, received_at FROM relay WHERE transport = ? AND due_at <= ? ORDER BY due_at, id LIMIT ?")
        .all(transport, now, limit) as Array<{ id: string; request: string; attempts: number; received_at: number }>;
      return rows.map((row) => ({ id: row.id, request: parse(row.request), attempts: row.attempts, receivedAt: row.received_at }));
    },
    async relayDone(id) {
      await sql.write(() => sql.statement("DELETE FROM relay WHERE transport = ? AND id = ?").run(transport, id));
    },
    async relayRetry(id, dueAt) {
      await sql.write(() => sql.statement("UPDATE relay SET due_at = ?, attempts = attempts + 1 WHERE transport = ? AND id = ?").run(dueAt, transport, id));
    },

    async seenGet<T>(kind: SeenKind, key: string, now: number) {
      const row = sql.statement("SELECT value FROM seen WHERE transport = ? AND kind = ? AND seen_key = ? AND expires_at > ?").get(transport, kind, key, now) as
        | { value: string }
        | undefined;
      return row ? parse<T>(row.value) : undefined;
    },
    seenPut(kind, key, user, value, expiresAt) {
      return sql.write(() => putSeen(transport, kind, key, user, value, expiresAt));
    },
    async seenDelete(kind, key) {
      await sql.write(() => sql.statement("DELETE FROM seen WHERE transport = ? AND kind = ? AND seen_key = ?").run(transport, kind, key));
    },

    ...sqliteIntake(sql, transport),

    async backlog() {
      const row = sql
        .statement(
          `SELECT (SELECT COUNT(*) FROM outbox WHERE transport = ?) AS outbox_count, (SELECT MIN(taken_at) FROM outbox WHERE transport = ?) AS outbox_oldest,
                  (SELECT COUNT(*) FROM inbox WHERE transport = ?) AS inbox_count, (SELECT MIN(received_at) FROM inbox WHERE transport = ?) AS inbox_oldest`,
        )
        .get(transport, transport, transport, transport) as {
        outbox_count: number;
        outbox_oldest: number | null;
        inbox_count: number;
        inbox_oldest: number | null;
      };
      return {
        outbox: { count: row.outbox_count, ...(row.outbox_oldest !== null && { oldestAt: row.outbox_oldest }) },
        inbox: { count: row.inbox_count, ...(row.inbox_oldest !== null && { oldestAt: row.inbox_oldest }) },
      };
    },

    removeUser(user) {
      return sql.write(() =>
        sql.transaction(() =>
          LEDGER_TABLES.reduce(
            (removed, table) => removed + sql.statement(`DELETE FROM ${table} WHERE transport = ? AND user_jid = ?`).run(transport, user).changes,
            0,
          ),
        ),
      );
    },
  });

  function putSeen(transport: string, kind: SeenKind, key: string, user: string, value: unknown, expiresAt: number): void {
    sql
      .statement(
        `INSERT INTO seen (transport, kind, seen_key, user_jid, value, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (transport, kind, seen_key) DO UPDATE SET user_jid = excluded.user_jid, value = excluded.value, expires_at = excluded.expires_at`,
      )
      .run(transport, kind, key, user, json(value), expiresAt);
  }

  return {
    forTransport,
    sweep(now) {
      return sql.write(() => sql.statement("DELETE FROM seen WHERE expires_at <= ?").run(now).changes);
    },
  };
}

function migrate(db: SqliteDatabase, sql: StatementCache): void {
  db.exec("CREATE TABLE IF NOT EXISTS ledger_version (version BIGINT NOT NULL)");
  // Every migration not yet run, in order (not only those above the highest run: a store made
  // while a later one existed before an earlier one was added still gets the earlier one).
  const done = new Set((db.prepare("SELECT version FROM ledger_version").all() as Array<{ version: number }>).map((row) => Number(row.version)));
  for (const migration of MIGRATIONS.filter((candidate) => !done.has(candidate.version))) {
    sql.transaction(() => {
      for (const statement of migration.statements) db.exec(statement);
      if (migration.version === 1) importKeyvQueues(keyvRows(db), (table, row) => insertImported(db, table, row));
      db.prepare("INSERT INTO ledger_version (version) VALUES (?)").run(migration.version);
    });
  }
}

function keyvRows(db: SqliteDatabase): { rows: Array<{ key: string; value: string }>; remove(key: string): void } {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'keyv'").get();
  const rows = exists ? (db.prepare("SELECT key, value FROM keyv").all() as Array<{ key: string; value: string }>) : [];
  const remove = db.prepare("DELETE FROM keyv WHERE key = ?");
  return { rows, remove: (key) => void remove.run(key) };
}

function insertImported(db: SqliteDatabase, table: (typeof LEDGER_TABLES)[number], row: Record<string, string | number>): void {
  const columns = Object.keys(row);
  db.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) ON CONFLICT DO NOTHING`).run(
    ...columns.map((column) => row[column]!),
  );
}
