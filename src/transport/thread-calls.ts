// Calls to a worker thread, answered by id: for work a transport moves off the gateway's event loop
// (the e-mail transport's SMTP conversations). The thread starts with the first call and does not keep the
// process alive while nothing is asked of it. When it dies, every call it held is rejected with an
// Error saying so, and the next call starts a new thread. The thread's side is serveCalls() in
// thread-serve.ts.
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";

export type ToThread<Q> = { kind: "call"; id: number; request: Q } | { kind: "tell"; note: unknown } | { kind: "close" };
export type FromThread<A> = { kind: "answer"; id: number; answer: A } | { kind: "threw"; id: number; message: string } | { kind: "note"; note: unknown };

export interface ThreadCalls<Q, A> {
  /** The thread's answer; rejects when the thread stopped before answering, or with its own error. */
  call(request: Q): Promise<A>;
  /** A message that needs no answer (dropped when no thread runs). */
  tell(note: unknown): void;
  /** Stops the thread once it has finished what it does (it closes what it holds on "close"). */
  close(): void;
}

export interface ThreadOptions {
  /** Says what the thread is in log lines and errors: "the mail sending thread". */
  name: string;
  log: Logger;
  /** A note the thread sent of its own accord. */
  onNote?(note: unknown): void;
}

export function threadCalls<Q, A>(script: URL, options: ThreadOptions): ThreadCalls<Q, A> {
  const { name, log } = options;
  let worker: Worker | undefined;
  let nextId = 1;
  const waiting = new Map<number, { resolve(answer: A): void; reject(error: Error): void }>();

  const take = (id: number) => {
    const call = waiting.get(id);
    waiting.delete(id);
    // An idle thread must not keep the process alive.
    if (waiting.size === 0) worker?.unref();
    return call;
  };

  const rejectAll = (why: string): void => {
    for (const id of [...waiting.keys()]) take(id)?.reject(new Error(why));
  };

  const stopped = (from: Worker, why: string): void => {
    if (worker !== from) return;
    worker = undefined;
    rejectAll(why);
  };

  const start = (): Worker => {
    const started = new Worker(script);
    started.unref();
    started.on("message", (message: FromThread<A>) => {
      if (message.kind === "note") options.onNote?.(message.note);
      else if (message.kind === "answer") take(message.id)?.resolve(message.answer);
      else take(message.id)?.reject(new Error(message.message));
    });
    started.on("error", (error) => {
      log.error({ err: error }, `${name} failed; what it held is tried again`);
      stopped(started, `${name} failed: ${error.message}`);
    });
    started.on("exit", () => stopped(started, `${name} stopped`));
    return started;
  };

  return {
    call(request) {
      worker ??= start();
      const id = nextId++;
      if (waiting.size === 0) worker.ref();
      const answer = new Promise<A>((resolve, reject) => waiting.set(id, { resolve, reject }));
      try {
        worker.postMessage({ kind: "call", id, request } satisfies ToThread<Q>);
      } catch (error) {
        // A value that cannot be copied to the thread.
        take(id)?.reject(error as Error);
      }
      return answer;
    },
    tell(note) {
      worker?.postMessage({ kind: "tell", note } satisfies ToThread<Q>);
    },
    close() {
      const closing = worker;
      worker = undefined;
      // It ends once it has closed what it holds; the process does not wait for that.
      closing?.postMessage({ kind: "close" } satisfies ToThread<Q>);
      closing?.unref();
      rejectAll("the gateway is stopping");
    },
  };
}
