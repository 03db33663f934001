// XEP-0077 in-band registration with a XEP-0004 form whose fields come from the transport.
import { gatewayError } from "../../errors.js";
import type { Fields, RegistrationForm } from "../../transport/contract.js";
import { xml, type Element } from "../../xmpp/xml.js";
import type { Accounts } from "../state/accounts.js";
import { formElement, submittedFields } from "../data-form.js";
import { NS } from "../gateway.js";
import type { Router } from "../router.js";

export function registerRegistration(router: Router, accounts: Accounts): void {
  router.iq("get", NS.register, "query", async ({ from }) => {
    const { form, registered } = await accounts.form(from.bare);
    return xml(
      "query",
      { xmlns: NS.register },
      xml("instructions", {}, form.instructions),
      registered ? xml("registered") : null,
      formElement(form, NS.register),
    );
  });

  router.iq("set", NS.register, "query", async ({ from, payload }) => {
    if (payload.getChild("remove")) return void (await accounts.unregister(from.bare));
    const { form } = await accounts.form(from.bare);
    await accounts.register(from.bare, readSubmission(payload, form));
  });
}

function readSubmission(payload: Element, form: RegistrationForm): Fields {
  const x = payload.getChild("x", NS.data);
  if (x) {
    if (x.attrs.type === "cancel") throw gatewayError("bad-request", "Registration cancelled.");
    return submittedFields(x);
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
