// Which B-tree each page in a SQLite write-ahead log belongs to: the frames of the log's current
// run (those whose salts match its header) by page number, named through the dbstat table. For the
// count-queries preload; the reading is taken just before a checkpoint resets the log.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

const WAL_HEADER = 32;
const FRAME_HEADER = 24;

interface Readable {
  readonly name: string;
  prepare(sql: string): { all(): unknown[] };
}

/** Adds to `into`, per table or index name, how many pages the log holds now. */
export function tallyLogPages(db: Readable, into: Map<string, number>): void {
  let fd: number;
  try {
    fd = openSync(`${db.name}-wal`, "r");
  } catch {
    return;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < WAL_HEADER) return;
    const header = Buffer.alloc(WAL_HEADER);
    readSync(fd, header, 0, WAL_HEADER, 0);
    const pageSize = header.readUInt32BE(8);
    const salts = [header.readUInt32BE(16), header.readUInt32BE(20)];
    const owner = new Map<number, string>();
    for (const row of db.prepare("SELECT name, pageno FROM dbstat").all() as Array<{ name: string; pageno: number }>) owner.set(row.pageno, row.name);
    const frame = Buffer.alloc(FRAME_HEADER);
    for (let offset = WAL_HEADER; offset + FRAME_HEADER + pageSize <= size; offset += FRAME_HEADER + pageSize) {
      readSync(fd, frame, 0, FRAME_HEADER, offset);
      // Frames left from before the last reset carry the old salts: the current run ends there.
      if (frame.readUInt32BE(8) !== salts[0] || frame.readUInt32BE(12) !== salts[1]) break;
      const page = frame.readUInt32BE(0);
      // Page 1 holds the file's header (its size, the free list) besides the schema's root.
      const name = page === 1 ? "(page 1: file header)" : (owner.get(page) ?? "(free list)");
      into.set(name, (into.get(name) ?? 0) + 1);
    }
  } finally {
    closeSync(fd);
  }
}
