// Telnyx accounts: an API key (v2, Bearer) authenticates API calls; the account's Ed25519 public
// key checks the webhooks Telnyx signs. The public key names the account: it is the same for every
// key of the account, and is not secret.
import { gatewayError } from "../../../../src/transport/index.js";
import type { Fields } from "../../../../src/transport/contract.js";
import { TELNYX_PUBLIC_KEY } from "../../config.js";
import type { AccountKind, ProviderAccount } from "../../provider.js";

export const telnyxAccount = (apiKey: string, publicKey: string): ProviderAccount => ({ id: publicKey, credentials: { apiKey, publicKey } });

export const telnyxAccounts: AccountKind = {
  credentialNames: ["apiKey", "publicKey"],
  secretFields: ["apiKey"],
  // The API key only ever goes to Telnyx's API, whatever else the user changes.
  secretBinding: () => [],
  credentialFields(current, note, required) {
    return [
      {
        var: "apiKey",
        label: "Telnyx API key",
        type: "text-private",
        required,
        desc: `From the Telnyx portal, Auth > API Keys. Kept encrypted; the gateway sends your texts with it.${note}`,
      },
      {
        var: "publicKey",
        label: "Telnyx public key",
        type: "text-single",
        required,
        desc: "From the same page (Public Key, 44 characters); the gateway checks Telnyx's webhooks with it.",
        ...(current?.publicKey ? { value: current.publicKey } : {}),
      },
    ];
  },
  fromForm(fields: Fields) {
    const apiKey = fields.apiKey?.trim() ?? "";
    const publicKey = fields.publicKey?.trim() ?? "";
    if (!apiKey) throw gatewayError("not-acceptable", "Enter your Telnyx API key (Telnyx portal, Auth > API Keys).");
    if (!TELNYX_PUBLIC_KEY.test(publicKey))
      throw gatewayError(
        "not-acceptable",
        "The public key is 44 characters of base64 ending in =; copy it from the Telnyx portal (Auth > API Keys > Public Key).",
      );
    return telnyxAccount(apiKey, publicKey);
  },
  fromStored(fields) {
    return fields.apiKey && fields.publicKey ? telnyxAccount(fields.apiKey, fields.publicKey) : undefined;
  },
  words: {
    credentials: "Telnyx API key, public key",
    refused: "Telnyx did not accept this API key; copy it again from the Telnyx portal (Auth > API Keys).",
    numberLabel: "Your Telnyx number",
    numberOf: (number) => `${number} is not a number of the Telnyx account this API key belongs to; enter a number that account owns.`,
  },
};
