// The ledger's tables, as numbered migrations: a store records the last one it ran
// (ledger_version) and runs the later ones in order, each in its own transaction.
// The SQL is written for both engines (SQLite 3.35+, PostgreSQL 15): TEXT and BIGINT only.

export interface Migration {
  version: number;
  statements: string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE outbox (
        transport TEXT NOT NULL,
        id TEXT NOT NULL,
        user_jid TEXT NOT NULL,
        peer TEXT NOT NULL,
        due_at BIGINT NOT NULL,
        entry TEXT NOT NULL,
        PRIMARY KEY (transport, id))`,
      "CREATE INDEX outbox_due ON outbox (transport, due_at, id)",
      "CREATE INDEX outbox_user ON outbox (transport, user_jid)",
      `CREATE TABLE inbox (
        transport TEXT NOT NULL,
        source_key TEXT NOT NULL,
        user_jid TEXT NOT NULL,
        stored TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        PRIMARY KEY (transport, source_key))`,
      "CREATE INDEX inbox_user ON inbox (transport, user_jid)",
      `CREATE TABLE seen (
        transport TEXT NOT NULL,
        kind TEXT NOT NULL,
        seen_key TEXT NOT NULL,
        user_jid TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (transport, kind, seen_key))`,
      "CREATE INDEX seen_expires ON seen (expires_at)",
      "CREATE INDEX seen_user ON seen (transport, user_jid)",
    ],
  },
  {
    // Stanzas the XMPP server handed over, kept from the moment they are read until they are in the
    // outbox (or refused). On SQLite the row is written before the first await, in the commit of
    // the event-loop turn that read the stanza: it replaces the intake journal file.
    version: 2,
    statements: [
      `CREATE TABLE intake (
        transport TEXT NOT NULL,
        mark TEXT NOT NULL,
        user_jid TEXT NOT NULL,
        stanza TEXT NOT NULL,
        PRIMARY KEY (transport, mark))`,
      "CREATE INDEX intake_user ON intake (transport, user_jid)",
    ],
  },
  {
    // Outgoing rows are claimed by the instance that sends them, for a while (claimed_until), so
    // that no two instances send one row; webhooks a standby took in wait in relay for the holder.
    version: 3,
    statements: [
      "ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE outbox ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0",
      "CREATE INDEX outbox_conversation ON outbox (transport, user_jid, peer)",
      `CREATE TABLE relay (
        transport TEXT NOT NULL,
        id TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        due_at BIGINT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        request TEXT NOT NULL,
        PRIMARY KEY (transport, id))`,
      "CREATE INDEX relay_due ON relay (transport, due_at, id)",
    ],
  },
  {
    // How long the oldest message has waited, for the metrics: an outgoing row's due time moves
    // with each retry, so the time it was taken in gets a column; rows from before get their due time.
    version: 4,
    statements: [
      "ALTER TABLE outbox ADD COLUMN taken_at BIGINT NOT NULL DEFAULT 0",
      "UPDATE outbox SET taken_at = due_at",
      "CREATE INDEX outbox_taken ON outbox (transport, taken_at)",
      "CREATE INDEX inbox_received ON inbox (transport, received_at)",
    ],
  },
  {
    // outbox_conversation (transport, user_jid, peer) serves every lookup by user as well: the
    // narrower index only cost each message two more page writes, at its insert and its delete.
    version: 5,
    statements: ["DROP INDEX IF EXISTS outbox_user"],
  },
  {
    // Fewer pages written per message: a row is in each index of its table, so each index costs a
    // page write at the row's insert and at its delete. These served only the metrics' oldest-item
    // age (the count beside it scans the same rows anyway) and removing a user (a rare scan of
    // queues that are short). The pages saved are counted in docs/performance.md.
    version: 6,
    statements: [
      "DROP INDEX IF EXISTS intake_user",
      "DROP INDEX IF EXISTS inbox_user",
      "DROP INDEX IF EXISTS inbox_received",
      "DROP INDEX IF EXISTS outbox_taken",
    ],
  },
];

export const LEDGER_TABLES = ["outbox", "inbox", "seen", "intake"] as const;
