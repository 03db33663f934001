// Remembers, synchronously and at once, which inbound messages the XMPP server confirmed, so that
// a crash between the confirmation and the store's bookkeeping does not send them a second time.
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";

export interface DeliveryJournal {
  confirmed(key: string): void;
  /** Keys confirmed by an earlier run (read once at start). */
  wasConfirmed(key: string): boolean;
  /** Forget the earlier run's keys once its leftovers are settled. */
  settle(): void;
}

const COMPACT_AFTER_BYTES = 1024 * 1024;

export function openDeliveryJournal(file: string, log: Logger): DeliveryJournal {
  mkdirSync(dirname(file), { recursive: true });
  const earlier = new Set(existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
  let bytes = 0;
  let warned = false;
  return {
    confirmed(key) {
      try {
        appendFileSync(file, `${key}\n`);
        bytes += key.length + 1;
        // Entries only matter until the store has caught up; an old file can be cut when it grows.
        if (bytes > COMPACT_AFTER_BYTES && earlier.size === 0) {
          truncateSync(file, 0);
          bytes = 0;
        }
      } catch (error) {
        if (!warned) log.warn({ file, err: error }, "cannot write the delivery journal");
        warned = true;
      }
    },
    wasConfirmed(key) {
      return earlier.has(key);
    },
    settle() {
      earlier.clear();
    },
  };
}
