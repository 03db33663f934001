// The worker thread's side of thread-calls.ts: answers each call with what `answer` resolves to,
// or with the message of what it threw.
import { parentPort } from "node:worker_threads";
import type { FromThread, ToThread } from "./thread-calls.js";

export interface Served<Q, A> {
  answer(request: Q): Promise<A>;
  /** A message that needs no answer. */
  hear?(note: unknown): void;
  /** Before the thread ends: close what it holds (connections), so that it can end. */
  close?(): void;
}

export function serveCalls<Q, A>(served: Served<Q, A>): { note(note: unknown): void } {
  const port = parentPort;
  if (!port) throw new Error("serveCalls() runs in a worker thread");
  const post = (message: FromThread<A>): void => port.postMessage(message);
  port.on("message", (message: ToThread<Q>) => {
    if (message.kind === "tell") return served.hear?.(message.note);
    if (message.kind === "close") {
      served.close?.();
      port.close();
      return;
    }
    const { id } = message;
    let answering: Promise<A>;
    try {
      answering = served.answer(message.request);
    } catch (error) {
      answering = Promise.reject(error);
    }
    answering.then(
      (answer) => post({ kind: "answer", id, answer }),
      (error: unknown) => post({ kind: "threw", id, message: error instanceof Error ? error.message : String(error) }),
    );
  });
  return { note: (note) => post({ kind: "note", note }) };
}
