// XEP-0077 in-band registration with a XEP-0004 form whose fields come from the transport.
import { gatewayError } from "../errors.js";
import type { Fields, RegistrationForm } from "../transport/contract.js";
import type { BareJid } from "../xmpp/jid.js";
import { xml, type Element } from "../xmpp/xml.js";
import { checkFields, formElement, submittedFields } from "./data-form.js";
import type { Gateway } from "./gateway.js";
import { NS } from "./gateway.js";
import type { Router } from "./router.js";

export interface RegistrationHooks {
  /** After a registration was stored; `isNew` is false for a change of settings. */
  registered(user: BareJid, isNew: boolean): Promise<void>;
  /** After the transport let go of the user; clears what the core stored for them. */
  unregistered(user: BareJid): Promise<void>;
}

export function registerRegistration(router: Router, gateway: Gateway, hooks: RegistrationHooks): void {
  const { transport, registrations, access, log } = gateway;

  const mayRegister = (user: BareJid): void => {
    if (!access.mayRegister(user)) {
      throw gatewayError("not-allowed", `This gateway does not accept registrations from ${user}; its operator allows only some domains and users.`);
    }
  };

  // Secrets are never sent back; the form shows which ones are set instead.
  const formFor = async (user: BareJid, current?: Fields): Promise<RegistrationForm> => {
    const form = await transport.registrationForm(user, current);
    return {
      ...form,
      fields: form.fields.map((field) =>
        transport.secretFields.includes(field.var) ? { ...field, value: "", desc: current?.[field.var] ? `${field.desc ?? ""} Leave empty to keep the current one.`.trim() : field.desc } : field,
      ),
    };
  };

  router.iq("get", NS.register, "query", async ({ from }) => {
    const user = from.bare;
    mayRegister(user);
    const current = await registrations.get(user);
    const form = await formFor(user, current?.fields);
    return xml("query", { xmlns: NS.register }, xml("instructions", {}, form.instructions), current ? xml("registered") : null, formElement(form, NS.register));
  });

  router.iq("set", NS.register, "query", async ({ from, payload }) => {
    const user = from.bare;
    const current = await registrations.get(user);

    if (payload.getChild("remove")) {
      if (!current) throw gatewayError("registration-required", "You are not registered with this gateway.");
      try {
        await transport.unregister(user, current.fields);
      } catch (error) {
        log.warn({ user, err: error }, "transport failed to release a user; removing the registration anyway");
      }
      await registrations.remove(user);
      await hooks.unregistered(user);
      log.info({ user }, "user unregistered");
      return;
    }

    mayRegister(user);
    const form = await formFor(user, current?.fields);
    const submitted = readSubmission(payload, form);
    // A field left out keeps what the form showed (the current setting or the default);
    // an empty secret in a change of settings keeps the stored one.
    for (const field of form.fields) {
      if (!(field.var in submitted) && field.value) submitted[field.var] = field.value;
    }
    for (const name of transport.secretFields) {
      if (!submitted[name] && current?.fields[name]) submitted[name] = current.fields[name];
    }
    const checked = checkFields(submitted, form);
    const accepted = await transport.register(user, checked, current?.fields);
    await registrations.save(user, accepted);
    log.info({ user, isNew: !current }, current ? "registration changed" : "user registered");
    void hooks.registered(user, !current).catch((error: unknown) => log.warn({ user, err: error }, "post-registration steps failed"));
  });
}

function readSubmission(payload: Element, form: RegistrationForm): Fields {
  const x = payload.getChild("x", NS.data);
  if (x) {
    if (x.attrs.type === "cancel") throw gatewayError("bad-request", "Registration cancelled.");
    return submittedFields(x, { ...form, fields: form.fields.map((field) => ({ ...field, required: false })) });
  }
  // Legacy XEP-0077 fields: <password>…</password> and friends, named like the form's fields.
  const values: Fields = {};
  for (const field of form.fields) {
    const text = payload.getChildText(field.var);
    if (text !== null) values[field.var] = text;
  }
  if (Object.keys(values).length === 0) throw gatewayError("bad-request", "Fill in the registration form (jabber:x:data) to register.");
  return values;
}
