// The ledger: what moves through the gateway (outgoing messages waiting to be sent, incoming ones
// waiting for the XMPP server, ids already seen), in real tables with indexes. Each call is one
// transaction. Mappings (registrations, contacts, preferences) stay in the keyv store.

/** Kinds of remembered ids, each with its own time to live. */
export type SeenKind =
  /** An incoming message's source id, once the XMPP server has it (its record serves replies). */
  | "in"
  /** An outgoing stanza id, so a client's resend is not sent twice. */
  | "out"
  /** A provider's id for a message it accepted, until its delivery status comes. */
  | "sent";

export interface OutboxRow<E> {
  id: string;
  entry: E;
}

/** Who holds a row, and until when (ms since the epoch). */
export interface Claim {
  owner: string;
  until: number;
}

/** A webhook as it arrived, to be replayed by the instance that runs its transport. */
export interface RelayedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: Record<string, string>;
  /** The body, base64. */
  body: string;
}

export interface RelayRow {
  id: string;
  request: RelayedRequest;
  attempts: number;
  receivedAt: number;
}

export interface InboxRow<S> {
  key: string;
  stored: S;
}

/** How many messages wait in a queue, and since when the oldest has waited (ms since the epoch). */
export interface Backlog {
  count: number;
  oldestAt?: number;
}

/** One transport's share of the ledger; every row it writes carries the transport's name. */
export interface TransportLedger {
  /** Stores a new outgoing message, claimed by `claim.owner` (who sends it at once); false when one
   *  with this id is waiting or was handled already. The order is fixed at the call: inserts are
   *  made, and answered, in the order they were called (SQLite writes at the call; PostgreSQL
   *  queues the statement at the call and answers in call order, turn-batch.ts). */
  outboxAdd(id: string, user: string, peer: string, dueAt: number, entry: unknown, now: number, claim: Claim): Promise<boolean>;
  /** The message was sent or given up: its row goes and its id is remembered, in one transaction. */
  outboxFinish(id: string, user: string, expiresAt: number): Promise<void>;
  /**
   * Claims for `claim.owner`, until `claim.until`, at most `limit` messages due at `now`, earliest
   * first: rows nobody holds (or whose claim ran out), of conversations no other owner is sending.
   * Of several instances claiming at once, each row goes to one (on PostgreSQL: FOR UPDATE SKIP LOCKED).
   */
  outboxClaim<E>(now: number, limit: number, claim: Claim): Promise<Array<OutboxRow<E>>>;
  /** Extends the owner's claim on messages it is still sending. */
  outboxRenew(ids: readonly string[], claim: Claim): Promise<void>;
  /** Frees every claim not held by `owner`: called by a domain's new holder, whose lease proves the
   *  previous one is gone. Returns the ids freed: the old holder may have been sending any of them. */
  outboxReleaseOthers(owner: string): Promise<string[]>;
  /** When a message next falls due (or a claim on one runs out), or undefined when none waits. */
  outboxNextDue(): Promise<number | undefined>;
  /** Another attempt later: the row's claim is given up, so whoever polls at `dueAt` may take it. */
  outboxReschedule(id: string, dueAt: number, entry: unknown): Promise<void>;
  /** Waiting, or handled and still remembered. */
  outboxHas(id: string, now: number): Promise<boolean>;
  outboxRemove(id: string): Promise<void>;
  outboxCount(): Promise<number>;

  /** Stores an incoming message under its source key unless that key is waiting or was delivered. */
  inboxAdd(key: string, user: string, stored: unknown, now: number): Promise<"added" | "duplicate">;
  /** The server has it: the waiting row goes and the id is remembered, in one transaction. */
  inboxDone(key: string, user: string, record: unknown, expiresAt: number): Promise<void>;
  /** The message waiting under `key`, if it is still waiting. */
  inboxGet<S>(key: string): Promise<S | undefined>;
  /** Waiting messages in key order after `afterKey` (paging by key, never by offset). */
  inboxPage<S>(afterKey: string, limit: number): Promise<Array<InboxRow<S>>>;

  /** Keeps an HTTP request a standby instance took in for this transport, until its holder replays it. */
  relayAdd(id: string, request: RelayedRequest, now: number): Promise<void>;
  /** Requests due for replay, oldest first. */
  relayDue(now: number, limit: number): Promise<Array<RelayRow>>;
  /** Replayed (or given up): the row goes. */
  relayDone(id: string): Promise<void>;
  /** The replay failed for a reason that may pass (the store, a 5xx): try again at `dueAt`. */
  relayRetry(id: string, dueAt: number): Promise<void>;

  /**
   * Only on an engine that writes at the call, before it returns (SQLite): records a stanza the
   * XMPP server handed over, under `mark` (marks sort in arrival order). The row is written before
   * the caller's next await and committed with the current event-loop turn's transaction; the
   * promise says when that commit happened. Engines without it leave the intake to a journal file.
   */
  intakeAdd?(mark: string, user: string, stanza: string): Promise<void>;
  /** The stanza is handled (in the outbox, or refused): its row goes. */
  intakeDone?(mark: string): Promise<void>;
  /** Stanzas recorded and never handled (an earlier run stopped first), in mark order. */
  intakePending?(): Promise<Array<{ mark: string; stanza: string }>>;

  seenGet<T>(kind: SeenKind, key: string, now: number): Promise<T | undefined>;
  seenPut(kind: SeenKind, key: string, user: string, value: unknown, expiresAt: number): Promise<void>;
  seenDelete(kind: SeenKind, key: string): Promise<void>;

  /** For the metrics, read at each scrape: what waits in the outbox (since it was taken in) and in
   *  the inbox (since it was received), from the indexes on those times. */
  backlog(): Promise<{ outbox: Backlog; inbox: Backlog }>;

  /** Everything of this user's in every ledger table: one DELETE per table. Returns the rows removed. */
  removeUser(user: string): Promise<number>;
}

export interface Ledger {
  forTransport(name: string): TransportLedger;
  /** Drops remembered ids whose time has passed; returns how many. */
  sweep(now: number): Promise<number>;
}

/** UPDATE … RETURNING gives rows in no set order: put claimed rows back in due order. */
export function inDueOrder<R extends { id: string; due_at: number | string }>(rows: R[]): R[] {
  return rows.sort((a, b) => Number(a.due_at) - Number(b.due_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
