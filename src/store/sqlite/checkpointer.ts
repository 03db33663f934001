// Keeps WAL checkpoints off the event loop. SQLite checkpoints by default at the end of the commit
// that fills the log past 1,000 pages, inside that commit's call, with a sync to disk: in the
// benchmarks that was most of the time spent in COMMIT. Here the gateway's connection never
// checkpoints; a worker thread does, on its own connection, every second. What a crash or a power
// loss may cost is unchanged: commits are in the log either way, and the log is synced before
// anything is copied out of it.
import type { Logger } from "pino";
import { Worker } from "node:worker_threads";
import type { SqliteDatabase } from "./database.js";

const EVERY_MS = 1_000;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(db: SqliteDatabase, file: string, log: Logger): Checkpointer {
  db.pragma("wal_autocheckpoint = 0");
  const worker = new Worker(new URL("./checkpoint-worker.js", import.meta.url), { workerData: { file, everyMs: EVERY_MS } });
  let reported = false;
  const fallBack = (reason: string): void => {
    // Without the worker the log would only grow: the connection checkpoints for itself again.
    if (db.open) db.pragma("wal_autocheckpoint = 1000");
    if (!reported) log.warn({ reason }, "the store's background checkpoints stopped; commits checkpoint again");
    reported = true;
  };
  worker.on("message", (message: { failed?: string }) => {
    if (message.failed) log.warn({ reason: message.failed }, "a background checkpoint of the store failed; the next one tries again");
  });
  worker.on("error", (error) => fallBack(error.message));
  const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
  let stopping = false;
  // A store left open (a test, a failed start) must not keep the process alive; after the
  // listeners, which would hold it again.
  worker.unref();
  void exited.then((code) => {
    if (!stopping) fallBack(`the checkpoint thread ended (code ${code})`);
  });

  return {
    async stop() {
      if (stopping) return;
      stopping = true;
      worker.postMessage("stop");
      const timeout = setTimeout(() => void worker.terminate(), 5_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
