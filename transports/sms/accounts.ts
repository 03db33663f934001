// Whose Twilio account and number each user texts from: the operator's (one free number lent to
// each user) or their own (checked against the API, and its number pointed at the gateway).
import type { CountryCode } from "libphonenumber-js";
import type { Logger } from "pino";
import { GatewayError, gatewayError } from "../../src/errors.js";
import type { Table } from "../../src/store/store.js";
import type { Fields, FormField, RegistrationForm } from "../../src/transport/contract.js";
import type { BareJid } from "../../src/xmpp/jid.js";
import type { SmsConfig } from "./config.js";
import { describeTwilioError } from "./errors.js";
import { parsePhone, type PhoneAddress } from "./phone.js";
import { ProviderError, type ProviderAccount, type SmsProvider } from "./provider.js";

/** Which user a number belongs to; the key is the number. */
export interface Binding {
  user: string;
  accountSid: string;
}

export interface Sender {
  account: ProviderAccount;
  from: PhoneAddress;
}

export interface Accounts {
  form(user: BareJid, current?: Fields): Promise<RegistrationForm>;
  register(user: BareJid, fields: Fields, previous?: Fields): Promise<Fields>;
  unregister(user: BareJid, fields: Fields): Promise<void>;
  senderOf(fields: Fields): Sender;
  bindingOf(number: string): Promise<Binding | undefined>;
  /** The auth token that signs webhooks for an account, if the gateway knows the account. */
  tokenOf(accountSid: string): Promise<string | undefined>;
}

export const SECRET_FIELDS = ["authToken"] as const;

/** An auth token is sent only to the account it belongs to: a new Account SID needs the token again. */
export function secretBinding(secretField: string): readonly string[] {
  return secretField === "authToken" ? ["accountSid"] : [];
}

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
/** An unknown account in a webhook triggers a scan of registrations at most this often. */
const RESCAN_MS = 10_000;

export function createAccounts(options: {
  config: SmsConfig;
  provider: SmsProvider;
  bindings: Table<Binding>;
  registrations: () => AsyncIterable<[BareJid, Fields]>;
  incomingUrl: () => string;
  log: Logger;
}): Accounts {
  const { config, provider, bindings, log } = options;
  const operator = config.operator;
  const region: CountryCode = config.defaultRegion;
  const tokens = new Map<string, string>();
  let lastScan = 0;
  // Registrations run one at a time so two users cannot take the same free number.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(run: () => Promise<T>): Promise<T> => {
    const result = queue.then(run);
    queue = result.catch(() => undefined);
    return result;
  };

  const freeNumbers = async (user: BareJid): Promise<string[]> => {
    const free: string[] = [];
    for (const number of operator?.numbers ?? []) {
      const binding = await bindings.get(number);
      if (!binding || binding.user === user) free.push(number);
    }
    return free;
  };

  const release = async (user: BareJid, number: string | undefined): Promise<void> => {
    if (!number) return;
    const binding = await bindings.get(number);
    if (binding?.user === user) await bindings.delete(number);
  };

  const bind = async (user: BareJid, number: PhoneAddress, accountSid: string): Promise<void> => {
    const binding = await bindings.get(number);
    if (binding && binding.user !== user) {
      throw gatewayError("conflict", `${number} is already used by another user of this gateway; choose another number.`, "number-taken");
    }
    await bindings.set(number, { user, accountSid });
  };

  const registerOperator = async (user: BareJid, fields: Fields, previous?: Fields): Promise<Fields> => {
    if (!operator) throw gatewayError("not-acceptable", "This gateway has no numbers of its own; enter your Twilio Account SID, Auth Token and number.");
    const free = await freeNumbers(user);
    if (free.length === 0) throw gatewayError("resource-constraint", "All of this gateway's numbers are taken; ask its operator for another one.", "no-free-number");
    const number = fields.number ? parsePhone(fields.number, region) : (free[0] as PhoneAddress);
    if (!operator.numbers.includes(number)) throw gatewayError("not-acceptable", `${number} is not one of this gateway's numbers; choose one of: ${free.join(", ")}.`);
    await bind(user, number, operator.accountSid);
    if (previous) await release(user, previous.mode === "own" ? previous.ownNumber : previous.number === number ? undefined : previous.number);
    return { mode: "operator", number };
  };

  const registerOwn = async (user: BareJid, fields: Fields, previous?: Fields): Promise<Fields> => {
    if (!config.ownAccounts) throw gatewayError("not-acceptable", "This gateway does not take users' own Twilio accounts; choose one of its numbers.");
    const accountSid = fields.accountSid?.trim() ?? "";
    const authToken = fields.authToken?.trim() ?? "";
    if (!ACCOUNT_SID.test(accountSid)) throw gatewayError("not-acceptable", "The Account SID is AC followed by 32 letters and digits; copy it from the Twilio console.");
    if (!authToken) throw gatewayError("not-acceptable", "Enter your Twilio Auth Token (from the Twilio console).");
    if (!fields.ownNumber) throw gatewayError("not-acceptable", "Enter the Twilio phone number you want to text from.");
    const number = parsePhone(fields.ownNumber, region);
    const account = { accountSid, authToken };
    let numberId: string | undefined;
    try {
      await provider.verifyAccount(account);
      numberId = await provider.findNumber(account, number);
    } catch (error) {
      throw asRegistrationError(error);
    }
    if (!numberId) throw gatewayError("not-acceptable", `${number} is not a number of Twilio account ${accountSid}; enter a number that account owns.`, "number-not-owned");
    // Bind before pointing the number at us, so nobody can repoint a number another user holds.
    const heldBefore = await serially(async () => {
      const held = (await bindings.get(number))?.user === user;
      await bind(user, number, accountSid);
      return held;
    });
    try {
      await provider.pointNumber(account, numberId, options.incomingUrl());
    } catch (error) {
      if (!heldBefore) await serially(() => release(user, number));
      throw asRegistrationError(error);
    }
    tokens.set(accountSid, authToken);
    if (previous) await serially(() => release(user, previous.mode === "own" ? (previous.ownNumber === number ? undefined : previous.ownNumber) : previous.number));
    log.info({ user, number }, "pointed a user's own Twilio number at the gateway");
    return { mode: "own", accountSid, authToken, ownNumber: number };
  };

  return {
    async form(user, current) {
      const fields: FormField[] = [];
      if (operator) {
        const free = await freeNumbers(user);
        fields.push({
          var: "number",
          label: "Phone number",
          type: "list-single",
          required: !config.ownAccounts,
          desc: free.length > 0 ? "The number your texts come from and go to." : "All of this gateway's numbers are taken.",
          options: free.map((number) => ({ label: number, value: number })),
          ...(current?.mode === "operator" && current.number ? { value: current.number } : {}),
        });
      }
      if (config.ownAccounts) {
        const note = operator ? " Only to use your own Twilio account instead of the gateway's numbers." : "";
        fields.push(
          { var: "accountSid", label: "Twilio Account SID", type: "text-single", required: !operator, desc: `Starts with AC; from the Twilio console.${note}`, ...(current?.accountSid ? { value: current.accountSid } : {}) },
          { var: "authToken", label: "Twilio Auth Token", type: "text-private", required: !operator, desc: "Kept encrypted; the gateway uses it to send your texts and check Twilio's webhooks." },
          { var: "ownNumber", label: "Your Twilio number", type: "text-single", required: !operator, desc: "A number of that account; the gateway points its incoming texts here.", ...(current?.ownNumber ? { value: current.ownNumber } : {}) },
        );
      }
      return {
        title: "Text messages (SMS/MMS)",
        instructions: operator
          ? "Choose the number your texts will come from. Each number belongs to one user of this gateway."
          : "Enter your Twilio account and one of its numbers; the gateway checks them with Twilio and points the number's incoming texts at itself.",
        fields,
      };
    },
    register(user, fields, previous) {
      const wantsOwn = config.ownAccounts && Boolean(fields.accountSid || fields.ownNumber) && (!operator || !fields.number);
      return wantsOwn ? registerOwn(user, fields, previous) : serially(() => registerOperator(user, fields, previous));
    },
    async unregister(user, fields) {
      const number = fields.mode === "own" ? fields.ownNumber : fields.number;
      if (fields.mode === "own" && fields.accountSid && fields.authToken && fields.ownNumber) {
        const account = { accountSid: fields.accountSid, authToken: fields.authToken };
        // Best effort: a number left pointing at us would only have its texts refused.
        try {
          const numberId = await provider.findNumber(account, fields.ownNumber as PhoneAddress);
          if (numberId) await provider.pointNumber(account, numberId, null);
        } catch (error) {
          log.warn({ user, err: error }, "could not detach the user's Twilio number from the gateway");
        }
      }
      await serially(() => release(user, number));
    },
    senderOf(fields) {
      if (fields.mode === "own") {
        if (!fields.accountSid || !fields.authToken || !fields.ownNumber) throw gatewayError("registration-required", "Your registration lacks your Twilio account; register again.");
        return { account: { accountSid: fields.accountSid, authToken: fields.authToken }, from: fields.ownNumber as PhoneAddress };
      }
      if (!operator || !fields.number) throw gatewayError("registration-required", "Your registration has no number to text from; register again.");
      return { account: { accountSid: operator.accountSid, authToken: operator.authToken }, from: fields.number as PhoneAddress };
    },
    bindingOf(number) {
      return bindings.get(number);
    },
    async tokenOf(accountSid) {
      if (operator && accountSid === operator.accountSid) return operator.authToken;
      const known = tokens.get(accountSid);
      if (known || !config.ownAccounts || Date.now() - lastScan < RESCAN_MS) return known;
      // Another instance may have registered this account: learn tokens from the registrations.
      lastScan = Date.now();
      for await (const [, fields] of options.registrations()) {
        if (fields.mode === "own" && fields.accountSid && fields.authToken) tokens.set(fields.accountSid, fields.authToken);
      }
      return tokens.get(accountSid);
    },
  };
}

function asRegistrationError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof ProviderError) {
    const { httpStatus, code, temporary } = error.options;
    if (code === 20003 || httpStatus === 401 || httpStatus === 403) {
      return gatewayError("not-authorized", "Twilio did not accept this Account SID and Auth Token; copy both again from the Twilio console.", "twilio-auth");
    }
    if (temporary) return gatewayError("remote-server-timeout", "Twilio could not be reached to check your account; try again in a few minutes.", "twilio-unreachable");
    return gatewayError("not-acceptable", `Twilio refused the registration: ${describeTwilioError(code, error.message)}`, "twilio-refused");
  }
  return gatewayError("internal-server-error", "The gateway failed to check your Twilio account; its operator can find details in the log.");
}
