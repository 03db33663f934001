// Whose provider account and number each user texts from: the operator's (one free number lent to
// each user) or their own (checked against the provider's API, and its number pointed at the gateway).
import type { CountryCode } from "libphonenumber-js";
import type { Logger } from "pino";
import { GatewayError, gatewayError, type Table, type BareJid } from "../../src/transport/index.js";
import type { Fields, FormField, RegistrationForm } from "../../src/transport/contract.js";
import type { SmsConfig } from "./config.js";
import { parsePhone, type PhoneAddress } from "./phone.js";
import { ProviderError, type ProviderAccount, type SmsProvider, type WebhookClaim } from "./provider.js";

/** Which user a number belongs to; the key is the number. */
export interface Binding {
  user: string;
  /** The id of the provider account the number is used through (the field name predates Telnyx:
   *  bindings kept by earlier versions read the same). */
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
  /** An account the gateway knows (the operator's, or one a user registered), by its id. */
  accountById(id: string): Promise<ProviderAccount | undefined>;
  /** The account whose signature a webhook must carry, from what it claims. */
  accountFor(claim: WebhookClaim): Promise<ProviderAccount | undefined>;
}

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
  const operatorAccount = provider.operatorAccount;
  const kind = provider.accounts;
  const brand = provider.displayName;
  const region: CountryCode = config.defaultRegion;
  const known = new Map<string, ProviderAccount>();
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

  const bind = async (user: BareJid, number: PhoneAddress, accountId: string): Promise<void> => {
    const binding = await bindings.get(number);
    if (binding && binding.user !== user) {
      throw gatewayError("conflict", `${number} is already used by another user of this gateway; choose another number.`, "number-taken");
    }
    await bindings.set(number, { user, accountSid: accountId });
  };

  const registerOperator = async (user: BareJid, fields: Fields, previous?: Fields): Promise<Fields> => {
    if (!operator || !operatorAccount)
      throw gatewayError("not-acceptable", `This gateway has no numbers of its own; enter your ${kind.words.credentials} and number.`);
    const free = await freeNumbers(user);
    if (free.length === 0)
      throw gatewayError("resource-constraint", "All of this gateway's numbers are taken; ask its operator for another one.", "no-free-number");
    const number = fields.number ? parsePhone(fields.number, region) : (free[0] as PhoneAddress);
    if (!operator.numbers.includes(number))
      throw gatewayError("not-acceptable", `${number} is not one of this gateway's numbers; choose one of: ${free.join(", ")}.`);
    await bind(user, number, operatorAccount.id);
    if (previous) await release(user, previous.mode === "own" ? previous.ownNumber : previous.number === number ? undefined : previous.number);
    return { mode: "operator", number };
  };

  const registerOwn = async (user: BareJid, fields: Fields, previous?: Fields): Promise<Fields> => {
    if (!config.ownAccounts) throw gatewayError("not-acceptable", `This gateway does not take users' own ${brand} accounts; choose one of its numbers.`);
    const account = kind.fromForm(fields);
    if (!fields.ownNumber) throw gatewayError("not-acceptable", `Enter the ${brand} phone number you want to text from.`);
    const number = parsePhone(fields.ownNumber, region);
    let numberId: string | undefined;
    try {
      await provider.verifyAccount(account);
      numberId = await provider.findNumber(account, number);
    } catch (error) {
      throw asRegistrationError(error);
    }
    if (!numberId) throw gatewayError("not-acceptable", kind.words.numberOf(number, account), "number-not-owned");
    // Bind before pointing the number at us, so nobody can repoint a number another user holds.
    const heldBefore = await serially(async () => {
      const held = (await bindings.get(number))?.user === user;
      await bind(user, number, account.id);
      return held;
    });
    try {
      await provider.pointNumber(account, numberId, options.incomingUrl());
    } catch (error) {
      if (!heldBefore) await serially(() => release(user, number));
      throw asRegistrationError(error);
    }
    known.set(account.id, account);
    if (previous)
      await serially(() => release(user, previous.mode === "own" ? (previous.ownNumber === number ? undefined : previous.ownNumber) : previous.number));
    log.info({ user, number, provider: provider.name }, "pointed a user's own number at the gateway");
    return { mode: "own", ...account.credentials, ownNumber: number };
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
        const note = operator ? ` Only to use your own ${brand} account instead of the gateway's numbers.` : "";
        fields.push(...kind.credentialFields(current, note, !operator), {
          var: "ownNumber",
          label: kind.words.numberLabel,
          type: "text-single",
          required: !operator,
          desc: "A number of that account; the gateway points its incoming texts here.",
          ...(current?.ownNumber ? { value: current.ownNumber } : {}),
        });
      }
      return {
        title: "Text messages (SMS/MMS)",
        instructions: operator
          ? "Choose the number your texts will come from. Each number belongs to one user of this gateway."
          : `Enter your ${brand} account and one of its numbers; the gateway checks them with ${brand} and points the number's incoming texts at itself.`,
        fields,
      };
    },
    register(user, fields, previous) {
      const wantsOwn = config.ownAccounts && Boolean(kind.credentialNames.some((name) => fields[name]) || fields.ownNumber) && (!operator || !fields.number);
      return wantsOwn ? registerOwn(user, fields, previous) : serially(() => registerOperator(user, fields, previous));
    },
    async unregister(user, fields) {
      const number = fields.mode === "own" ? fields.ownNumber : fields.number;
      const account = fields.mode === "own" ? kind.fromStored(fields) : undefined;
      if (account && fields.ownNumber) {
        // Best effort: a number left pointing at us would only have its texts refused.
        try {
          const numberId = await provider.findNumber(account, fields.ownNumber as PhoneAddress);
          if (numberId) await provider.pointNumber(account, numberId, null);
        } catch (error) {
          log.warn({ user, err: error }, "could not detach the user's own number from the gateway");
        }
      }
      await serially(() => release(user, number));
      // What the provider remembers of group texts through the number names their members: it goes
      // with the user (the next holder of an operator number gets its conversations looked up anew).
      const through = account ?? operatorAccount;
      if (through && number && provider.forgetNumber) {
        try {
          const removed = await provider.forgetNumber(through, number as PhoneAddress);
          if (removed > 0) log.info({ user, removed }, "forgot the conversations of the user's number");
        } catch (error) {
          log.warn({ user, err: error }, "could not forget the conversations of the user's number");
        }
      }
    },
    senderOf(fields) {
      if (fields.mode === "own") {
        const account = kind.fromStored(fields);
        if (!account || !fields.ownNumber) throw gatewayError("registration-required", `Your registration lacks your ${brand} account; register again.`);
        return { account, from: fields.ownNumber as PhoneAddress };
      }
      if (!operatorAccount || !fields.number) throw gatewayError("registration-required", "Your registration has no number to text from; register again.");
      return { account: operatorAccount, from: fields.number as PhoneAddress };
    },
    bindingOf(number) {
      return bindings.get(number);
    },
    accountById,
    async accountFor(claim) {
      if (claim.accountId) return accountById(claim.accountId);
      if (!claim.number) return undefined;
      const binding = await bindings.get(claim.number);
      if (binding) return accountById(binding.accountSid);
      // An operator number nobody holds: still the operator's account that signs its webhooks.
      return operatorAccount && operator?.numbers.includes(claim.number) ? operatorAccount : undefined;
    },
  };

  async function accountById(id: string): Promise<ProviderAccount | undefined> {
    if (operatorAccount && id === operatorAccount.id) return operatorAccount;
    const found = known.get(id);
    if (found || !config.ownAccounts || Date.now() - lastScan < RESCAN_MS) return found;
    // Another instance may have registered this account: learn accounts from the registrations.
    lastScan = Date.now();
    for await (const [, fields] of options.registrations()) {
      const account = fields.mode === "own" ? kind.fromStored(fields) : undefined;
      if (account) known.set(account.id, account);
    }
    return known.get(id);
  }

  function asRegistrationError(error: unknown): GatewayError {
    if (error instanceof GatewayError) return error;
    if (error instanceof ProviderError) {
      const { httpStatus, code, temporary, auth } = error.options;
      if (auth || httpStatus === 403) return gatewayError("not-authorized", kind.words.refused, `${provider.name}-auth`);
      if (temporary)
        return gatewayError(
          "remote-server-timeout",
          `${brand} could not be reached to check your account; try again in a few minutes.`,
          `${provider.name}-unreachable`,
        );
      return gatewayError("not-acceptable", `${brand} refused the registration: ${provider.describeError(code, error.message)}`, `${provider.name}-refused`);
    }
    return gatewayError("internal-server-error", `The gateway failed to check your ${brand} account; its operator can find details in the log.`);
  }
}
