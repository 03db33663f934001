// The owner's answer to a new room (XEP-0045 §10.1.2, an instant room): an empty submitted form
// accepts the default configuration. Clients such as Gajim and Conversations send it after every
// join that made a room; our rooms are usable at once and their configuration is fixed.
import { gatewayError } from "../../errors.js";
import type { Element } from "../../xmpp/xml.js";
import { NS } from "../gateway.js";

export function acceptInstantRoom(query: Element): void {
  const form = query.getChild("x", NS.data);
  const fields = form?.getChildren("field").filter((field) => field.attrs.var !== "FORM_TYPE") ?? [];
  if (form?.attrs.type === "submit" && fields.length === 0) return;
  throw gatewayError(
    "feature-not-implemented",
    "This group chat cannot be configured (it is members-only, persistent and not anonymous); submit an empty form to accept it as it is.",
  );
}
