// The ledger's hot writes of one event-loop turn on PostgreSQL, sent together: one text of many
// statements, one round trip and one implicit transaction (one commit, one sync to disk) instead of
// one of each per call. Under load a turn holds the writes of many messages; on SQLite the store
// already shares one commit per turn the same way.
//
// A call names the key it writes; a ledger call also takes that key's advisory lock first, as in
// one-trip.ts. The calls are sent in the order of their keys (calls on one key keep theirs), so two
// batches, here or in another instance, take their locks and rows in the same order and cannot wait
// on each other in a cycle. When the text fails as a whole (one statement's error aborts the
// transaction), each call is run again by itself, so that each caller gets its own answer.
import type pg from "pg";
import { lockedText, type Literal } from "./one-trip.js";

/** More calls than this go in several texts (a turn rarely holds so many). */
const MAX_CALLS_PER_TEXT = 200;

interface Call {
  text: string;
  key: string;
  /** Whether the text begins with the key's lock: then the call's answer is its second result. */
  locked: boolean;
  resolve(result: pg.QueryResult): void;
  reject(error: unknown): void;
}

export interface TurnBatch {
  /** Runs `statement` in this turn's transaction, after taking the advisory lock of `key` when
   *  `locked`; resolves with the statement's result once the transaction has committed. */
  run(key: string, locked: boolean, statement: string, values: readonly Literal[]): Promise<pg.QueryResult>;
}

export function createTurnBatch(pool: pg.Pool): TurnBatch {
  let waiting: Call[] = [];
  let scheduled = false;

  const alone = async (call: Call): Promise<void> => {
    try {
      const result = (await pool.query(call.text)) as unknown as pg.QueryResult | pg.QueryResult[];
      call.resolve(Array.isArray(result) ? result[result.length - 1]! : result);
    } catch (error) {
      call.reject(error);
    }
  };

  const together = async (calls: Call[]): Promise<void> => {
    if (calls.length === 1) return alone(calls[0]!);
    let results: pg.QueryResult[];
    try {
      results = (await pool.query(calls.map((call) => call.text).join(";\n"))) as unknown as pg.QueryResult[];
    } catch {
      // Which call failed, and whether the others would have, is not known: each runs by itself.
      await Promise.all(calls.map(alone));
      return;
    }
    let index = -1;
    for (const call of calls) {
      index += call.locked ? 2 : 1;
      call.resolve(results[index]!);
    }
  };

  const flush = (): void => {
    scheduled = false;
    // A stable sort: calls on one key stay in the order they were made.
    const calls = waiting.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    waiting = [];
    for (let start = 0; start < calls.length; start += MAX_CALLS_PER_TEXT) void together(calls.slice(start, start + MAX_CALLS_PER_TEXT));
  };

  return {
    run(key, locked, statement, values) {
      return new Promise<pg.QueryResult>((resolve, reject) => {
        waiting.push({ text: lockedText(locked ? key : undefined, statement, values), key, locked, resolve, reject });
        if (scheduled) return;
        scheduled = true;
        setImmediate(flush);
      });
    },
  };
}
