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

export interface InboxRow<S> {
  key: string;
  stored: S;
}

/** One transport's share of the ledger; every row it writes carries the transport's name. */
export interface TransportLedger {
  /** Stores a new outgoing message; false when one with this id is waiting or was handled already. */
  outboxAdd(id: string, user: string, peer: string, dueAt: number, entry: unknown, now: number): Promise<boolean>;
  /** The message was sent or given up: its row goes and its id is remembered, in one transaction. */
  outboxFinish(id: string, user: string, expiresAt: number): Promise<void>;
  /** The messages due at `now`, earliest first, at most `limit`; ids in `skip` are left out. */
  outboxDue<E>(now: number, limit: number, skip: ReadonlySet<string>): Promise<Array<OutboxRow<E>>>;
  /** When the next message falls due, or undefined when none waits. */
  outboxNextDue(): Promise<number | undefined>;
  outboxReschedule(id: string, dueAt: number, entry: unknown): Promise<void>;
  /** Waiting, or handled and still remembered. */
  outboxHas(id: string, now: number): Promise<boolean>;
  outboxRemove(id: string): Promise<void>;
  outboxCount(): Promise<number>;

  /** Stores an incoming message under its source key unless that key is waiting or was delivered. */
  inboxAdd(key: string, user: string, stored: unknown, now: number): Promise<"added" | "duplicate">;
  /** The server has it: the waiting row goes and the id is remembered, in one transaction. */
  inboxDone(key: string, user: string, record: unknown, expiresAt: number): Promise<void>;
  /** Waiting messages in key order after `afterKey` (paging by key, never by offset). */
  inboxPage<S>(afterKey: string, limit: number): Promise<Array<InboxRow<S>>>;

  seenGet<T>(kind: SeenKind, key: string, now: number): Promise<T | undefined>;
  seenPut(kind: SeenKind, key: string, user: string, value: unknown, expiresAt: number): Promise<void>;
  seenDelete(kind: SeenKind, key: string): Promise<void>;

  /** Everything of this user's in every ledger table: one DELETE per table. Returns the rows removed. */
  removeUser(user: string): Promise<number>;
}

export interface Ledger {
  forTransport(name: string): TransportLedger;
  /** Drops remembered ids whose time has passed; returns how many. */
  sweep(now: number): Promise<number>;
}
