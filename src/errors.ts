// Errors that carry a machine code, a human sentence and the stanza condition they become.
// Everything below the stanza router throws these; the router alone turns them into XML.

export type StanzaErrorType = "cancel" | "modify" | "auth" | "wait" | "continue";

export type StanzaCondition =
  | "bad-request"
  | "conflict"
  | "feature-not-implemented"
  | "forbidden"
  | "internal-server-error"
  | "item-not-found"
  | "jid-malformed"
  | "not-acceptable"
  | "not-allowed"
  | "not-authorized"
  | "policy-violation"
  | "recipient-unavailable"
  | "registration-required"
  | "remote-server-not-found"
  | "remote-server-timeout"
  | "resource-constraint"
  | "service-unavailable"
  | "undefined-condition";

const DEFAULT_TYPE: Record<StanzaCondition, StanzaErrorType> = {
  "bad-request": "modify",
  conflict: "cancel",
  "feature-not-implemented": "cancel",
  forbidden: "auth",
  "internal-server-error": "wait",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "policy-violation": "modify",
  "recipient-unavailable": "wait",
  "registration-required": "auth",
  "remote-server-not-found": "cancel",
  "remote-server-timeout": "wait",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
  "undefined-condition": "cancel",
};

export class GatewayError extends Error {
  readonly code: string;
  readonly condition: StanzaCondition;
  readonly type: StanzaErrorType;

  constructor(condition: StanzaCondition, message: string, options: { code?: string; type?: StanzaErrorType; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.condition = condition;
    this.code = options.code ?? condition;
    this.type = options.type ?? DEFAULT_TYPE[condition];
  }
}

export const gatewayError = (condition: StanzaCondition, message: string, code?: string): GatewayError =>
  new GatewayError(condition, message, code === undefined ? {} : { code });

/** Whatever was thrown, as a GatewayError; unexpected errors keep their message out of the reply. */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError("internal-server-error", "The gateway failed to handle this request; the operator can find details in its log.", {
    code: "internal",
    cause: error,
  });
}
