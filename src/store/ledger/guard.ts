// Whatever a ledger engine throws (disk full, database down, busy) reaches callers as one error,
// StoreUnavailableError, which the core already turns into "try again later" for whoever asked.
import { StoreUnavailableError } from "../unavailable.js";
import type { Ledger, TransportLedger } from "./ledger.js";

export function guardLedger(ledger: Ledger): Ledger {
  return {
    forTransport: (name) => guardAll(ledger.forTransport(name)),
    sweep: (now) => guard(() => ledger.sweep(now)),
  };
}

function guardAll(inner: TransportLedger): TransportLedger {
  const outer: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(inner) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    outer[name] = (...args: unknown[]) => guard(() => method(...args));
  }
  return outer as unknown as TransportLedger;
}

async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error);
  }
}
