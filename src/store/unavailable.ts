// The one error for "the store cannot keep what it is given", whichever engine or table said so.
import { GatewayError } from "../errors.js";

/** The store cannot keep what it is given (disk full, read-only, database down): refuse new work. */
export class StoreUnavailableError extends GatewayError {
  constructor(cause: unknown) {
    super(
      "resource-constraint",
      "The gateway cannot store anything right now (its storage is full, read-only or unreachable), so it took nothing on; try again later.",
      {
        code: "store-unavailable",
        type: "wait",
        cause,
      },
    );
  }
}
