// A room's configuration (XEP-0045 §10.1, §10.2). A room here follows its conversation, so its
// configuration is fixed: members-only, persistent, not anonymous, not listed, named by its subject.
// The form shows it as it is. A submission that keeps it is accepted: the empty form with which
// Conversations takes a new room as it is, or the form sent back unchanged, as Gajim's dialog does.
// A change is refused with <not-acceptable/> and a sentence naming the setting.
import { gatewayError } from "../../errors.js";
import type { FormField, RegistrationForm } from "../../transport/contract.js";
import { xml, xmlSafe, type Element } from "../../xmpp/xml.js";
import { booleanOf, formElement, submittedFields } from "../data-form.js";
import { NS } from "../gateway.js";
import type { Room } from "./room-store.js";

export const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";
const ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig";
const ROOM_NAME = "muc#roomconfig_roomname";

function configuration(room: Room): RegistrationForm {
  const flag = (name: string, label: string, on: boolean): FormField => ({ var: `muc#roomconfig_${name}`, type: "boolean", label, value: on ? "1" : "0" });
  return {
    title: "Group chat configuration",
    instructions: "This group chat follows its conversation, so these settings are fixed. Its name is its subject: change the subject to rename it.",
    fields: [
      { var: ROOM_NAME, type: "text-single", label: "Name (the conversation's subject)", value: room.subject },
      flag("persistentroom", "Kept when nobody is in it", true),
      flag("membersonly", "Only the conversation's people are in it", true),
      flag("publicroom", "Listed in searches", false),
      {
        var: "muc#roomconfig_whois",
        type: "list-single",
        label: "Who may see each participant's address",
        value: "anyone",
        options: [
          { label: "Moderators", value: "moderators" },
          { label: "Anyone", value: "anyone" },
        ],
      },
      flag("changesubject", "The subject may be changed", true),
      flag("allowinvites", "Others may be invited", true),
    ],
  };
}

/** The owner's configuration form of this room. */
export function configurationForm(room: Room): Element {
  return xml("query", { xmlns: NS_MUC_OWNER }, formElement(configuration(room), ROOMCONFIG));
}

/** Accepts a submission that keeps the configuration (or cancels); refuses any change in words. */
export function acceptConfiguration(query: Element, room: Room): void {
  const form = query.getChild("x", NS.data);
  if (form?.attrs.type === "cancel") return;
  if (!form) throw gatewayError("bad-request", "Send the configuration as a data form (XEP-0004), or an empty one to keep it.");
  const fields = configuration(room).fields;
  for (const [name, value] of Object.entries(submittedFields(form))) {
    const field = fields.find((candidate) => candidate.var === name);
    if (!field) {
      throw gatewayError(
        "not-acceptable",
        `This group chat has no setting "${name.slice(0, 100)}"; its settings are fixed. Send the form back unchanged, or an empty one.`,
      );
    }
    if (sameValue(field, value)) continue;
    if (name === ROOM_NAME) throw gatewayError("not-acceptable", "This group chat's name is its subject: change the subject to rename it.");
    throw gatewayError("not-acceptable", `"${field.label}" cannot be changed: this group chat follows its conversation, so its settings are fixed.`);
  }
}

function sameValue(field: FormField, submitted: string): boolean {
  const value = submitted.trim();
  if (field.type === "boolean") return booleanOf(value) === booleanOf(field.value ?? "");
  // A name left empty keeps the name.
  if (field.var === ROOM_NAME && value === "") return true;
  // Compared with the value as the form showed it: a subject from a mail may hold characters XML
  // cannot carry, which the link dropped on the way out, and spaces a client trims.
  return value === xmlSafe(field.value ?? "").trim();
}
