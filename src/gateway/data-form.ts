// XEP-0004 data forms: a transport's registration form out, submitted values back in.
import { gatewayError } from "../errors.js";
import type { Fields, FormField, RegistrationForm } from "../transport/contract.js";
import { xml, type Element } from "../xmpp/xml.js";
import { NS } from "./gateway.js";

export function formElement(form: RegistrationForm, formType: string): Element {
  return xml(
    "x",
    { xmlns: NS.data, type: "form" },
    xml("title", {}, form.title),
    xml("instructions", {}, form.instructions),
    xml("field", { type: "hidden", var: "FORM_TYPE" }, xml("value", {}, formType)),
    ...form.fields.map(fieldElement),
  );
}

function fieldElement(field: FormField): Element {
  return xml(
    "field",
    { var: field.var, type: field.type, label: field.label },
    field.desc ? xml("desc", {}, field.desc) : null,
    field.required ? xml("required") : null,
    field.value !== undefined && field.value !== "" ? xml("value", {}, field.value) : null,
    ...(field.options ?? []).map((option) => xml("option", { label: option.label }, xml("value", {}, option.value))),
  );
}

/** The values of a submitted form, by field name (FORM_TYPE left out). */
export function submittedFields(x: Element): Fields {
  const type = x.attrs.type;
  if (type !== "submit") throw gatewayError("bad-request", `Submit the form with type="submit", not "${type ?? ""}".`);
  const values: Fields = {};
  for (const field of x.getChildren("field")) {
    const name = field.attrs.var;
    if (!name || name === "FORM_TYPE") continue;
    values[name] = field
      .getChildren("value")
      .map((value) => value.text())
      .join("\n");
  }
  return values;
}

export function checkFields(values: Fields, form: RegistrationForm): Fields {
  const checked: Fields = {};
  for (const field of form.fields) {
    if (field.type === "fixed") continue;
    let value = (values[field.var] ?? "").trim();
    if (field.type === "boolean" && value) {
      const flag = booleanOf(value);
      if (flag === undefined) throw gatewayError("not-acceptable", `${field.label} must be true or false.`);
      value = String(flag);
    }
    if (field.required && !value) throw gatewayError("not-acceptable", `${field.label} is required.`);
    if (value && field.type === "list-single" && field.options && !field.options.some((option) => option.value === value)) {
      throw gatewayError("not-acceptable", `${field.label} must be one of: ${field.options.map((option) => option.value).join(", ")}.`);
    }
    if (value) checked[field.var] = value;
  }
  return checked;
}

/** A XEP-0004 boolean value ("1", "true", "0", "false"), or undefined for anything else. */
export function booleanOf(value: string): boolean | undefined {
  if (value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  return undefined;
}
