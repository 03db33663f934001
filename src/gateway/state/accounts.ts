// Registering, changing and removing a user's account with a transport. XEP-0077, the ad-hoc
// commands and the chat bot all come through here, so the rules are the same whichever a client uses.
import { GatewayError, gatewayError } from "../../errors.js";
import { createRateLimiter } from "../../transport/rate-limit.js";
import type { Fields, RegistrationForm } from "../../transport/contract.js";
import type { BareJid } from "../../xmpp/jid.js";
import { checkFields } from "../data-form.js";
import type { Gateway } from "../gateway.js";

export interface AccountHooks {
  /** After a registration was stored; `isNew` is false for a change of settings. */
  registered(user: BareJid, isNew: boolean): Promise<void>;
  /** After the transport let go of the user; clears what the core stored for them. */
  unregistered(user: BareJid): Promise<void>;
}

export interface Accounts {
  /** Throws not-allowed unless the operator lets this user register. */
  checkAllowed(user: BareJid): void;
  /** The transport's form with the user's current values; secrets are never shown. */
  form(user: BareJid): Promise<{ form: RegistrationForm; registered: boolean }>;
  /** Validates and stores `submitted` (fields left out keep their current value). */
  register(user: BareJid, submitted: Fields): Promise<{ isNew: boolean }>;
  unregister(user: BareJid): Promise<void>;
}

// Each attempt may make the transport log in somewhere (IMAP, Twilio): a user must not be able to
// use the gateway to guess passwords, nor many users to flood the legacy servers at once.
const ATTEMPTS_PER_USER_WINDOW_MS = 10 * 60_000;

export function createAccounts(gateway: Gateway, hooks: AccountHooks): Accounts {
  const { transport, registrations, access, log } = gateway;
  // Read at each attempt: a config reload (SIGHUP) changes them.
  const perUser = createRateLimiter(() => gateway.limits.registrationAttemptsPerUser, ATTEMPTS_PER_USER_WINDOW_MS);
  const overall = createRateLimiter(() => gateway.limits.registrationsPerMinute);

  const checkAllowed = (user: BareJid): void => {
    if (!access.mayRegister(user)) {
      throw gatewayError("not-allowed", `This gateway does not accept registrations from ${user}; its operator allows only some domains and users.`);
    }
  };

  const keepHint = (secret: string): string => {
    const bound = transport.secretBinding?.(secret) ?? [];
    return bound.length > 0 ? "Leave empty to keep the current one (only while the server and account stay the same)." : "Leave empty to keep the current one.";
  };

  /** A stored secret goes only where it was entered for: moving it elsewhere needs it typed again. */
  const keepSecret = (form: RegistrationForm, values: Fields, current: Fields, secret: string): void => {
    const same = (a: string | undefined, b: string | undefined): boolean => (a ?? "").trim().toLowerCase() === (b ?? "").trim().toLowerCase();
    const moved = (transport.secretBinding?.(secret) ?? []).filter((name) => !same(values[name], current[name]));
    if (moved.length > 0) {
      const label = (name: string): string => form.fields.find((field) => field.var === name)?.label ?? name;
      throw new GatewayError(
        "not-acceptable",
        `You changed ${moved.map(label).join(", ")}: enter ${label(secret)} again. A stored ${label(secret).toLowerCase()} is only ever sent where it was entered for.`,
        { code: "secret-needed" },
      );
    }
    values[secret] = current[secret]!;
  };

  const formFor = async (user: BareJid, current?: Fields): Promise<RegistrationForm> => {
    const form = await transport.registrationForm(user, current);
    return {
      ...form,
      fields: form.fields.map((field) =>
        transport.secretFields.includes(field.var)
          ? { ...field, value: "", desc: current?.[field.var] ? `${field.desc ?? ""} ${keepHint(field.var)}`.trim() : field.desc }
          : field,
      ),
    };
  };

  return {
    checkAllowed,
    async form(user) {
      checkAllowed(user);
      const current = await registrations.get(user);
      return { form: await formFor(user, current?.fields), registered: current !== undefined };
    },
    async register(user, submitted) {
      checkAllowed(user);
      if (!perUser.take(user)) {
        log.warn({ user }, "registration attempts over the limit");
        throw new GatewayError("policy-violation", `Too many registration attempts; wait ${ATTEMPTS_PER_USER_WINDOW_MS / 60_000} minutes and try again.`, {
          type: "wait",
          code: "registration-flood",
        });
      }
      if (!overall.take("*")) {
        log.warn({ user }, "registrations over the gateway-wide limit");
        throw new GatewayError("resource-constraint", "The gateway is handling many registrations right now; try again in a minute.", {
          type: "wait",
          code: "registration-busy",
        });
      }
      const current = await registrations.get(user);
      const form = await formFor(user, current?.fields);
      const values = { ...submitted };
      // A field left out keeps what the form showed (the current setting or the default);
      // an empty secret in a change of settings keeps the stored one, unless it would go elsewhere.
      for (const field of form.fields) {
        if (!(field.var in values) && field.value) values[field.var] = field.value;
      }
      for (const name of transport.secretFields) {
        if (!values[name] && current?.fields[name]) keepSecret(form, values, current.fields, name);
      }
      const checked = checkFields(values, form);
      const accepted = await transport.register(user, checked, current?.fields);
      await registrations.save(user, accepted);
      log.info({ user, isNew: !current }, current ? "registration changed" : "user registered");
      void hooks.registered(user, !current).catch((error: unknown) => log.warn({ user, err: error }, "post-registration steps failed"));
      return { isNew: !current };
    },
    async unregister(user) {
      const current = await registrations.get(user);
      if (!current) throw gatewayError("registration-required", "You are not registered with this gateway.");
      try {
        await transport.unregister(user, current.fields);
      } catch (error) {
        log.warn({ user, err: error }, "transport failed to release a user; removing the registration anyway");
      }
      await registrations.remove(user);
      await hooks.unregistered(user);
      log.info({ user }, "user unregistered");
    },
  };
}
