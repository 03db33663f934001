// Bookkeeping that follows a handover: once a provider or server has taken a message, a failing
// store must not make the send look failed, or the outbox would hand the message over again.
// The write is tried again (the store usually comes back within seconds), then given up with an
// error in the log: losing a delivery receipt or a thread link is better than sending twice.
import type { Logger } from "pino";

const FIRST_WAIT_MS = 250;
const LONGEST_WAIT_MS = 5_000;

export async function recordAfterSend(
  log: Logger,
  context: object,
  what: string,
  write: () => Promise<unknown>,
  options: { forMs?: number } = {},
): Promise<void> {
  const giveUpAt = Date.now() + (options.forMs ?? 30_000);
  for (let wait = FIRST_WAIT_MS; ; wait = Math.min(LONGEST_WAIT_MS, wait * 2)) {
    try {
      await write();
      return;
    } catch (error) {
      if (Date.now() + wait > giveUpAt) {
        log.error({ ...context, err: error }, `could not record ${what} after the message was sent; it is not sent again`);
        return;
      }
      log.warn({ ...context, err: error, retryInMs: wait }, `could not record ${what} after the message was sent; trying again`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
