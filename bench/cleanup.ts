// Every process the bench starts is tracked here, so an interrupted or failed run leaves none behind.
import type { ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();

export function track(child: ChildProcess): void {
  live.add(child);
  child.once("exit", () => live.delete(child));
}

/** Last resort at exit: whatever is still running gets SIGKILL (thawed first if frozen). */
export function killAll(): void {
  for (const child of live) {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
  }
  live.clear();
}
