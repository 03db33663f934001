// Twilio accounts: an Account SID (the account's id) and its Auth Token, which both authenticates
// API calls and signs the webhooks Twilio posts.
import { gatewayError } from "../../../../src/transport/index.js";
import type { Fields } from "../../../../src/transport/contract.js";
import type { AccountKind, ProviderAccount } from "../../provider.js";

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;

export const twilioAccount = (accountSid: string, authToken: string): ProviderAccount => ({ id: accountSid, credentials: { accountSid, authToken } });

export const twilioAccounts: AccountKind = {
  credentialNames: ["accountSid", "authToken"],
  secretFields: ["authToken"],
  // An auth token is sent only to the account it belongs to: a new Account SID needs the token again.
  secretBinding: (secretField) => (secretField === "authToken" ? ["accountSid"] : []),
  credentialFields(current, note, required) {
    return [
      {
        var: "accountSid",
        label: "Twilio Account SID",
        type: "text-single",
        required,
        desc: `Starts with AC; from the Twilio console.${note}`,
        ...(current?.accountSid ? { value: current.accountSid } : {}),
      },
      {
        var: "authToken",
        label: "Twilio Auth Token",
        type: "text-private",
        required,
        desc: "Kept encrypted; the gateway uses it to send your texts and check Twilio's webhooks.",
      },
    ];
  },
  fromForm(fields: Fields) {
    const accountSid = fields.accountSid?.trim() ?? "";
    const authToken = fields.authToken?.trim() ?? "";
    if (!ACCOUNT_SID.test(accountSid))
      throw gatewayError("not-acceptable", "The Account SID is AC followed by 32 letters and digits; copy it from the Twilio console.");
    if (!authToken) throw gatewayError("not-acceptable", "Enter your Twilio Auth Token (from the Twilio console).");
    return twilioAccount(accountSid, authToken);
  },
  fromStored(fields) {
    return fields.accountSid && fields.authToken ? twilioAccount(fields.accountSid, fields.authToken) : undefined;
  },
  words: {
    credentials: "Twilio Account SID, Auth Token",
    refused: "Twilio did not accept this Account SID and Auth Token; copy both again from the Twilio console.",
    numberLabel: "Your Twilio number",
    numberOf: (number, account) => `${number} is not a number of Twilio account ${account.id}; enter a number that account owns.`,
  },
};
