// E-mail addresses as contact JIDs: validation and one canonical form per address.
import { gatewayError } from "../../src/transport/index.js";
import type { AddressCodec } from "../../src/transport/contract.js";

declare const emailBrand: unique symbol;
/** A validated, lower-case e-mail address. */
export type EmailAddress = string & { readonly [emailBrand]: true };

// Dot-atom local parts (RFC 5322) plus non-ASCII letters (RFC 6531); quoted local parts are not
// accepted: they cannot be written in a JID without ambiguity and nobody uses them for people.
const LOCAL = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const LABEL = /^[\p{L}\p{N}]([\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

/** The canonical address, or a GatewayError (jid-malformed) whose text says what is wrong. */
export function parseAddress(text: string): EmailAddress {
  const trimmed = text.trim().replace(/^mailto:/i, "");
  // user%domain is how addresses were put in a JID's local part before XEP-0106.
  const address = trimmed.includes("@") ? trimmed : trimmed.replace(/%(?=[^%]*$)/, "@");
  const at = address.lastIndexOf("@");
  if (at === -1) throw gatewayError("jid-malformed", `"${trimmed}" is not an e-mail address: it has no @ (write name@domain, or name%domain).`);
  const local = address.slice(0, at);
  const domain = address
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/, "");
  if (!local) throw gatewayError("jid-malformed", `"${trimmed}" is not an e-mail address: nothing comes before the @.`);
  if (local.length > 64) throw gatewayError("jid-malformed", `"${trimmed}" is not an e-mail address: the part before the @ is longer than 64 characters.`);
  if (!LOCAL.test(local))
    throw gatewayError(
      "jid-malformed",
      `"${trimmed}" is not an e-mail address: the part before the @ holds characters an address cannot have, or dots in the wrong places.`,
    );
  const labels = domain.split(".");
  // "localhost" is the one single-label domain taken: mailboxes on the same machine (the trial's).
  if ((labels.length < 2 && domain !== "localhost") || domain.length > 253 || !labels.every((label) => LABEL.test(label))) {
    throw gatewayError("jid-malformed", `"${trimmed}" is not an e-mail address: "${domain}" is not a mail domain such as example.org.`);
  }
  if (local.length + 1 + domain.length > 254) throw gatewayError("jid-malformed", `"${trimmed}" is not an e-mail address: it is longer than 254 characters.`);
  // Jabber servers case-fold JID local parts, and mail systems treat addresses without regard to
  // case; one lower-case form keeps a contact one JID.
  return `${local.toLowerCase()}@${domain}` as EmailAddress;
}

/** Like parseAddress, but undefined instead of an error (for addresses found in mail headers). */
export function tryParseAddress(text: string | undefined): EmailAddress | undefined {
  if (!text) return undefined;
  try {
    return parseAddress(text);
  } catch {
    return undefined;
  }
}

export const emailAddressCodec: AddressCodec = {
  prompt: "E-mail address",
  description: "Enter the e-mail address of the person you want to write to.",
  parse: parseAddress,
  vcard: (address) => ({ element: "EMAIL", children: [["INTERNET"], ["USERID", address]] }),
};
