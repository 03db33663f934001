// How a mapping is written in its row. keyv's default serializer walks every value in JavaScript
// and parses with a reviver (to escape strings that begin with ":" and to carry Buffers): several
// times slower than plain JSON, and it ran for every mapping a message reads or writes. Rows written
// here are plain JSON that starts with a mark; rows without it (written by earlier releases) are
// read by keyv's own reader, so a store keeps its meaning across the upgrade. Values must be JSON
// data (no Buffers), which every table's values are.
import type { Deserialize, DeserializedData, Serialize } from "keyv";

const MARK = '{"f":1,';

export const serializeRow: Serialize = (row) => JSON.stringify({ f: 1, value: row.value, expires: row.expires });

/** Reads rows written by serializeRow, and the others with `older` (keyv's default reader). */
export function rowReader(older: Deserialize): Deserialize {
  return <Value>(text: string) => (text.startsWith(MARK) ? (JSON.parse(text) as DeserializedData<Value>) : older<Value>(text));
}
