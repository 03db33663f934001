// The ledger on PostgreSQL (pg): the same tables and SQL as on SQLite, one transaction per call,
// shared by every gateway instance that uses the database.
import pg from "pg";
import { inDueOrder, type Claim, type Ledger, type SeenKind, type TransportLedger } from "../ledger/ledger.js";
import { importKeyvQueues } from "../ledger/import-keyv.js";
import { LEDGER_TABLES, MIGRATIONS } from "../ledger/schema.js";
import { prepared } from "./prepared.js";
import { createTurnBatch } from "./turn-batch.js";

type Queryable = pg.Pool | pg.PoolClient;

export interface PgLedger extends Ledger {
  close(): Promise<void>;
}

export async function openPgLedger(uri: string): Promise<PgLedger> {
  const pool = new pg.Pool({ connectionString: uri, max: 10 });
  // An idle client that loses its server must not take the process down.
  pool.on("error", () => undefined);
  // Nor one in use: a server that ends its sessions (a restart) while a transaction holds a client
  // between two statements reports it as an "error" event on that client, which unheard would end
  // the process. The statement that follows fails, and the call is answered as the store failing.
  pool.on("connect", (client) => client.on("error", () => undefined));
  const query = async <R extends pg.QueryResultRow>(on: Queryable, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> => {
    return on.query<R>(prepared(text, values));
  };
  const transaction = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
  await migrate(transaction);
  // The keyed writes (and the seen ids) of one turn go in one round trip and one commit (turn-batch.ts).
  const batch = createTurnBatch(pool);

  // "Add unless waiting or done" and "done: remove and remember" on one key must not interleave:
  // under READ COMMITTED an add could miss the remembered id not yet committed and then find the
  // waiting row already gone. A transaction-scoped advisory lock on the key orders them.
  const keyed = <T>(transport: string, key: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> =>
    transaction(async (client) => {
      await query(client, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`${transport} ${key}`]);
      return work(client);
    });
  const json = (value: unknown): string => JSON.stringify(value ?? null);
  const parse = <T>(text: string): T => JSON.parse(text) as T;
  const forTransport = (transport: string): TransportLedger => ({
    async outboxAdd(id, user, peer, dueAt, entry, now, claim) {
      // The key's lock and the insert, in this turn's round trip (see turn-batch.ts).
      const added = await batch.run(
        `${transport} ${id}`,
        true,
        `INSERT INTO outbox (transport, id, user_jid, peer, due_at, entry, claimed_by, claimed_until, taken_at)
         SELECT $1, $2, $3, $4, $5, $6, $8, $9, $7 WHERE NOT EXISTS
           (SELECT 1 FROM seen WHERE transport = $1 AND kind = 'out' AND seen_key = $2 AND expires_at > $7)
         ON CONFLICT DO NOTHING`,
        [transport, id, user, peer, dueAt, json(entry), now, claim.owner, claim.until],
      );
      return (added.rowCount ?? 0) > 0;
    },
    async outboxFinish(id, user, expiresAt) {
      // Row out, id remembered: one statement, under the key's lock, in this turn's round trip.
      await batch.run(
        `${transport} ${id}`,
        true,
        `WITH gone AS (DELETE FROM outbox WHERE transport = $1 AND id = $2)
         INSERT INTO seen (transport, kind, seen_key, user_jid, value, expires_at) VALUES ($1, 'out', $2, $3, 'null', $4)
         ON CONFLICT (transport, kind, seen_key) DO UPDATE SET user_jid = excluded.user_jid, value = excluded.value, expires_at = excluded.expires_at`,
        [transport, id, user, expiresAt],
      );
    },
    async outboxClaim<E>(now: number, limit: number, claim: Claim) {
      // Claimers of one transport take turns (a transaction-scoped lock), so that each one's
      // statement sees what the one before claimed: a conversation another owner is sending stays
      // with it, and its messages still leave in order. Rows a writer holds at that moment (being
      // finished or rescheduled) are skipped, not waited for.
      const rows = await keyed(transport, "outbox claim", (client) =>
        query<{ id: string; entry: string; due_at: string }>(
          client,
          `UPDATE outbox SET claimed_by = $4, claimed_until = $5
         WHERE (transport, id) IN (
           SELECT o.transport, o.id FROM outbox o
           WHERE o.transport = $1 AND o.due_at <= $2 AND o.claimed_until <= $2
             AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.transport = o.transport AND e.user_jid = o.user_jid
                             AND e.peer = o.peer AND e.claimed_until > $2 AND e.claimed_by <> $4)
           ORDER BY o.due_at, o.id LIMIT $3
           FOR UPDATE SKIP LOCKED)
         RETURNING id, entry, due_at`,
          [transport, now, limit, claim.owner, claim.until],
        ),
      );
      return inDueOrder(rows.rows).map((row) => ({ id: row.id, entry: parse<E>(row.entry) }));
    },
    async outboxRenew(ids, claim) {
      if (ids.length === 0) return;
      await query(pool, "UPDATE outbox SET claimed_until = $1 WHERE transport = $2 AND id = ANY($3) AND claimed_by = $4", [
        claim.until,
        transport,
        [...ids],
        claim.owner,
      ]);
    },
    async outboxReleaseOthers(owner) {
      const freed = await query<{ id: string }>(
        pool,
        "UPDATE outbox SET claimed_until = 0 WHERE transport = $1 AND claimed_by <> $2 AND claimed_until > 0 RETURNING id",
        [transport, owner],
      );
      return freed.rows.map((row) => row.id);
    },
    async outboxNextDue() {
      const row = await query<{ due: string | null }>(pool, "SELECT MIN(GREATEST(due_at, claimed_until)) AS due FROM outbox WHERE transport = $1", [transport]);
      const due = row.rows[0]?.due;
      return due === null || due === undefined ? undefined : Number(due);
    },
    async outboxReschedule(id, dueAt, entry) {
      await query(pool, "UPDATE outbox SET due_at = $1, entry = $2, claimed_until = 0 WHERE transport = $3 AND id = $4", [dueAt, json(entry), transport, id]);
    },
    async outboxHas(id, now) {
      const found = await query(
        pool,
        `SELECT 1 FROM outbox WHERE transport = $1 AND id = $2
         UNION ALL SELECT 1 FROM seen WHERE transport = $1 AND kind = 'out' AND seen_key = $2 AND expires_at > $3`,
        [transport, id, now],
      );
      return (found.rowCount ?? 0) > 0;
    },
    async outboxRemove(id) {
      await query(pool, "DELETE FROM outbox WHERE transport = $1 AND id = $2", [transport, id]);
    },
    async outboxCount() {
      return Number((await query<{ n: string }>(pool, "SELECT COUNT(*) AS n FROM outbox WHERE transport = $1", [transport])).rows[0]?.n ?? 0);
    },

    async inboxAdd(key, user, stored, now) {
      // The key's lock and the insert, in this turn's round trip (see turn-batch.ts).
      const added = await batch.run(
        `${transport} ${key}`,
        true,
        `INSERT INTO inbox (transport, source_key, user_jid, stored, received_at)
         SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS
           (SELECT 1 FROM seen WHERE transport = $1 AND kind = 'in' AND seen_key = $2 AND expires_at > $5)
         ON CONFLICT DO NOTHING`,
        [transport, key, user, json(stored), now],
      );
      return (added.rowCount ?? 0) > 0 ? "added" : "duplicate";
    },
    async inboxDone(key, user, record, expiresAt) {
      // Waiting row out, id remembered: one statement, under the key's lock, in this turn's round trip.
      await batch.run(
        `${transport} ${key}`,
        true,
        `WITH gone AS (DELETE FROM inbox WHERE transport = $1 AND source_key = $2)
         INSERT INTO seen (transport, kind, seen_key, user_jid, value, expires_at) VALUES ($1, 'in', $2, $3, $4, $5)
         ON CONFLICT (transport, kind, seen_key) DO UPDATE SET user_jid = excluded.user_jid, value = excluded.value, expires_at = excluded.expires_at`,
        [transport, key, user, json(record), expiresAt],
      );
    },
    async inboxGet(key) {
      const rows = await query<{ stored: string }>(pool, "SELECT stored FROM inbox WHERE transport = $1 AND source_key = $2", [transport, key]);
      return rows.rows[0] ? parse(rows.rows[0].stored) : undefined;
    },
    async inboxPage(afterKey, limit) {
      const rows = await query<{ source_key: string; stored: string }>(
        pool,
        'SELECT source_key, stored FROM inbox WHERE transport = $1 AND source_key COLLATE "C" > $2 ORDER BY source_key COLLATE "C" LIMIT $3',
        [transport, afterKey, limit],
      );
      return rows.rows.map((row) => ({ key: row.source_key, stored: parse(row.stored) }));
    },

    async relayAdd(id, request, now) {
      await query(pool, "INSERT INTO relay (transport, id, received_at, due_at, request) VALUES ($1, $2, $3, $3, $4) ON CONFLICT DO NOTHING", [
        transport,
        id,
        now,
        json(request),
      ]);
    },
    async relayDue(now, limit) {
      const rows = await query<{ id: string; request: string; attempts: string; received_at: string }>(
        pool,
        "SELECT id, request, attempts, received_at FROM relay WHERE transport = $1 AND due_at <= $2 ORDER BY due_at, id LIMIT $3",
        [transport, now, limit],
      );
      return rows.rows.map((row) => ({ id: row.id, request: parse(row.request), attempts: Number(row.attempts), receivedAt: Number(row.received_at) }));
    },
    async relayDone(id) {
      await query(pool, "DELETE FROM relay WHERE transport = $1 AND id = $2", [transport, id]);
    },
    async relayRetry(id, dueAt) {
      await query(pool, "UPDATE relay SET due_at = $1, attempts = attempts + 1 WHERE transport = $2 AND id = $3", [dueAt, transport, id]);
    },

    async seenGet<T>(kind: SeenKind, key: string, now: number) {
      const rows = await query<{ value: string }>(pool, "SELECT value FROM seen WHERE transport = $1 AND kind = $2 AND seen_key = $3 AND expires_at > $4", [
        transport,
        kind,
        key,
        now,
      ]);
      const row = rows.rows[0];
      return row ? parse<T>(row.value) : undefined;
    },
    async seenPut(kind, key, user, value, expiresAt) {
      await batch.run(
        `${transport} ${kind} ${key}`,
        false,
        `INSERT INTO seen (transport, kind, seen_key, user_jid, value, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (transport, kind, seen_key) DO UPDATE SET user_jid = excluded.user_jid, value = excluded.value, expires_at = excluded.expires_at`,
        [transport, kind, key, user, json(value), expiresAt],
      );
    },
    async seenDelete(kind, key) {
      await query(pool, "DELETE FROM seen WHERE transport = $1 AND kind = $2 AND seen_key = $3", [transport, kind, key]);
    },

    async backlog() {
      const rows = await query<{ outbox_count: string; outbox_oldest: string | null; inbox_count: string; inbox_oldest: string | null }>(
        pool,
        `SELECT (SELECT COUNT(*) FROM outbox WHERE transport = $1) AS outbox_count, (SELECT MIN(taken_at) FROM outbox WHERE transport = $1) AS outbox_oldest,
                (SELECT COUNT(*) FROM inbox WHERE transport = $1) AS inbox_count, (SELECT MIN(received_at) FROM inbox WHERE transport = $1) AS inbox_oldest`,
        [transport],
      );
      const row = rows.rows[0]!;
      return {
        outbox: { count: Number(row.outbox_count), ...(row.outbox_oldest !== null && { oldestAt: Number(row.outbox_oldest) }) },
        inbox: { count: Number(row.inbox_count), ...(row.inbox_oldest !== null && { oldestAt: Number(row.inbox_oldest) }) },
      };
    },

    async removeUser(user) {
      return transaction(async (client) => {
        let removed = 0;
        for (const table of LEDGER_TABLES)
          removed += (await query(client, `DELETE FROM ${table} WHERE transport = $1 AND user_jid = $2`, [transport, user])).rowCount ?? 0;
        return removed;
      });
    },
  });

  return {
    forTransport,
    async sweep(now) {
      return (await query(pool, "DELETE FROM seen WHERE expires_at <= $1", [now])).rowCount ?? 0;
    },
    async close() {
      await pool.end();
    },
  };
}

// Several instances may start at once: an advisory lock lets one migrate while the others wait.
const MIGRATION_LOCK = 0x5b0a_4d01;

async function migrate(transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>): Promise<void> {
  await transaction(async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS ledger_version (version BIGINT NOT NULL)");
    // Every migration not yet run, in order (see the SQLite ledger's migrate()).
    const done = new Set((await client.query<{ version: string }>("SELECT version FROM ledger_version")).rows.map((row) => Number(row.version)));
    for (const migration of MIGRATIONS.filter((candidate) => !done.has(candidate.version))) {
      for (const statement of migration.statements) await client.query(statement);
      if (migration.version === 1) await importFromKeyv(client);
      await client.query("INSERT INTO ledger_version (version) VALUES ($1)", [migration.version]);
    }
  });
}

async function importFromKeyv(client: pg.PoolClient): Promise<void> {
  const exists = (await client.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'keyv'")).rowCount ?? 0;
  if (!exists) return;
  const rows = (
    await client.query<{ key: string; value: string }>("SELECT key, value FROM keyv WHERE key ~ '^[a-z0-9-]+\\.(outbox|inbox|inbox-seen|outbox-seen|sent):'")
  ).rows;
  const inserts: Array<{ table: string; row: Record<string, string | number> }> = [];
  const removals: string[] = [];
  importKeyvQueues({ rows, remove: (key) => removals.push(key) }, (table, row) => inserts.push({ table, row }));
  for (const { table, row } of inserts) {
    const columns = Object.keys(row);
    await client.query(
      `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")}) ON CONFLICT DO NOTHING`,
      columns.map((column) => row[column]),
    );
  }
  for (const key of removals) await client.query("DELETE FROM keyv WHERE key = $1", [key]);
}
