// The ledger's hot writes on PostgreSQL, sent together: one text of many statements, one round
// trip and one implicit transaction (one commit, one sync to disk) instead of one of each per call.
// One text is in flight at a time; the calls made meanwhile wait and go in the next one, so under
// load a text holds the writes of many messages (group commit), and when idle a call leaves at the
// end of its turn. On SQLite the store shares one commit per turn the same way.
//
// A call names the key it writes; a ledger call also takes that key's advisory lock first, as in
// one-trip.ts. A text runs its calls in the order of their keys (calls on one key keep theirs), so
// two texts, here or in another instance, take their locks and rows in the same order and cannot
// wait on each other in a cycle. Callers are answered in the order they called, so what one caller
// does after the answer (sending a message) follows what the caller before it does: the order is
// fixed at the call. When a text fails as a whole (one statement's error aborts the transaction),
// its calls run again one by one, so that each caller gets its own answer.
import type pg from "pg";
import { lockedText, type Literal } from "./one-trip.js";

/** More calls than this wait for the next text. */
const MAX_CALLS_PER_TEXT = 200;

interface Call {
  text: string;
  key: string;
  /** Whether the text begins with the key's lock: then the call's answer is its second result. */
  locked: boolean;
  resolve(result: pg.QueryResult): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; result: pg.QueryResult } | { ok: false; error: unknown };

export interface TurnBatch {
  /** Runs `statement` in the next text, after taking the advisory lock of `key` when `locked`;
   *  resolves with the statement's result once that text has committed, after every call made
   *  before this one has been answered. */
  run(key: string, locked: boolean, statement: string, values: readonly Literal[]): Promise<pg.QueryResult>;
}

export function createTurnBatch(pool: pg.Pool): TurnBatch {
  let waiting: Call[] = [];
  let scheduled = false;
  let sending = false;

  const alone = async (call: Call): Promise<Outcome> => {
    try {
      const result = (await pool.query(call.text)) as unknown as pg.QueryResult | pg.QueryResult[];
      return { ok: true, result: Array.isArray(result) ? result[result.length - 1]! : result };
    } catch (error) {
      return { ok: false, error };
    }
  };

  /** The outcomes of `calls`, sorted by key, in their order. */
  const together = async (calls: Call[]): Promise<Outcome[]> => {
    if (calls.length === 1) return [await alone(calls[0]!)];
    let results: pg.QueryResult[];
    try {
      results = (await pool.query(calls.map((call) => call.text).join(";\n"))) as unknown as pg.QueryResult[];
    } catch {
      // Which call failed, and whether the others would have, is not known: each runs by itself.
      const outcomes: Outcome[] = [];
      for (const call of calls) outcomes.push(await alone(call));
      return outcomes;
    }
    let index = -1;
    return calls.map((call) => {
      index += call.locked ? 2 : 1;
      return { ok: true, result: results[index]! };
    });
  };

  const send = async (): Promise<void> => {
    scheduled = false;
    sending = true;
    while (waiting.length > 0) {
      const arrived = waiting.slice(0, MAX_CALLS_PER_TEXT);
      waiting = waiting.slice(arrived.length);
      // A stable sort: calls on one key stay in the order they were made.
      const sorted = [...arrived].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const outcomes = await together(sorted);
      const outcomeOf = new Map(sorted.map((call, index) => [call, outcomes[index]!]));
      for (const call of arrived) {
        const outcome = outcomeOf.get(call)!;
        if (outcome.ok) call.resolve(outcome.result);
        else call.reject(outcome.error);
      }
    }
    sending = false;
  };

  return {
    run(key, locked, statement, values) {
      return new Promise<pg.QueryResult>((resolve, reject) => {
        waiting.push({ text: lockedText(locked ? key : undefined, statement, values), key, locked, resolve, reject });
        if (scheduled || sending) return;
        scheduled = true;
        setImmediate(() => void send());
      });
    },
  };
}
