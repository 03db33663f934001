// What happens to a user whose stored secret the gateway cannot unseal (the key changed, or the
// value is damaged): the transport never sees the account, the user is told to register again (as
// the transport's presence, and as the error of each message they send), the operator gets a log
// line. Everyone else keeps working.
import type { Logger } from "pino";
import type { AccountState, Fields, Transport } from "../../transport/contract.js";
import type { BareJid } from "../../xmpp/jid.js";
import type { Registration, Registrations } from "./registrations.js";

export const UNREADABLE_SECRET =
  "The gateway can no longer read the password (or token) stored for your account, so it cannot use it; register again to enter it anew.";

export interface UnreadableSecrets {
  /** For createRegistrations: a registration whose secret could not be unsealed was read. */
  found(user: BareJid, error: Error): void;
  /** The user registered again: their account is theirs to use once more. */
  cleared(user: BareJid): boolean;
  /** The registrations a transport may see: the readable ones. */
  readable(all: AsyncIterable<Registration>): AsyncIterable<[BareJid, Fields]>;
  /** The transport as the outbox uses it: a send for an unreadable account fails with the sentence. */
  guard(transport: Transport, registrations: Registrations): Transport;
}

export function createUnreadableSecrets(log: Logger, setAccountState: (user: BareJid, state: AccountState) => void): UnreadableSecrets {
  const known = new Set<BareJid>();
  return {
    found(user, error) {
      if (known.has(user)) return;
      known.add(user);
      log.error(
        { user, err: error.message },
        "a stored secret cannot be unsealed (secretKey changed without previousSecretKeys, or the value is damaged); the account is disabled until the user registers again",
      );
      setAccountState(user, { ok: false, reason: UNREADABLE_SECRET });
    },
    cleared(user) {
      return known.delete(user);
    },
    async *readable(all) {
      for await (const registration of all) if (!registration.unreadable) yield [registration.user, registration.fields];
    },
    guard(transport, registrations) {
      // A copy with its own send: the outbox reads only name and send.
      return Object.assign(Object.create(transport) as Transport, {
        async send(...args: Parameters<Transport["send"]>) {
          const registration = await registrations.get(args[0].user);
          if (registration?.unreadable) return { kind: "permanent" as const, reason: UNREADABLE_SECRET };
          return transport.send(...args);
        },
      });
    },
  };
}
