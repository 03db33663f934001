// Runs on a worker thread (see checkpointer.ts): every so often, copies what the write-ahead log
// holds into the database file, on a connection of its own. A checkpoint syncs the file to disk,
// and on the event loop that wait stalled every message behind it.
import Database from "better-sqlite3";
import { parentPort, workerData } from "node:worker_threads";

const { file, everyMs } = workerData as { file: string; everyMs: number };
const port = parentPort;
if (!port) throw new Error("checkpoint-worker.js runs as a worker thread");

const db = new Database(file, { timeout: 1_000 });
const timer = setInterval(() => {
  try {
    // PASSIVE: copies what no reader still needs and never blocks the gateway's writes.
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    port.postMessage({ failed: error instanceof Error ? error.message : String(error) });
  }
}, everyMs);

port.on("message", (message: unknown) => {
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  port.close();
});
