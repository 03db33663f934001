import { test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { GatewayError } from "../../src/errors.js";
import type { Fields } from "../../src/transport/contract.js";
import type { BareJid } from "../../src/xmpp/jid.js";
import { createAccounts, type Binding } from "../../transports/sms/accounts.js";
import { smsConfigSchema, type SmsConfig } from "../../transports/sms/config.js";
import { ProviderError, type SmsProvider } from "../../transports/sms/provider.js";
import { twilioAccount, twilioAccounts } from "../../transports/sms/providers/twilio/accounts.js";
import { describeTwilioCode } from "../../transports/sms/providers/twilio/errors.js";
import { memoryTable } from "../support/memory-table.js";

const OPERATOR = `AC${"1".repeat(32)}`;
const OWN = `AC${"2".repeat(32)}`;
const juliet = "juliet@example.test" as BareJid;
const romeo = "romeo@example.test" as BareJid;

function fakeProvider(config: SmsConfig, pointed: Map<string, string | null>, failPointing: { next: boolean }): SmsProvider {
  const operator = config.provider === "twilio" ? config.operator : undefined;
  return {
    name: "fake",
    displayName: "Twilio",
    accounts: twilioAccounts,
    ...(operator && { operatorAccount: twilioAccount(operator.accountSid, operator.authToken) }),
    limits: { bodyChars: 1_600, media: 10 },
    describeError: describeTwilioCode,
    send: async () => ({ id: "SM1" }),
    async verifyAccount(account) {
      if (account.id !== OWN || account.credentials.authToken !== "good")
        throw new ProviderError("Authenticate", { httpStatus: 401, code: "20003", temporary: false, auth: true });
    },
    findNumber: async (_account, number) => (number === "+14155550199" ? "PN1" : undefined),
    async pointNumber(_account, numberId, url) {
      if (failPointing.next) {
        failPointing.next = false;
        throw new ProviderError("Service unavailable", { httpStatus: 503, temporary: true });
      }
      pointed.set(numberId, url);
    },
    fetchMedia: async () => ({ data: Buffer.alloc(0), mediaType: "" }),
    webhookContentType: "application/x-www-form-urlencoded",
    webhookAnswer: { contentType: "text/plain", body: "" },
    claim: () => ({}),
    verify: async () => true,
    read: () => {
      throw new Error("unused");
    },
  };
}

function setup(config: Record<string, unknown>) {
  const bindings = memoryTable<Binding>();
  const pointed = new Map<string, string | null>();
  const registered = new Map<BareJid, Fields>();
  const failPointing = { next: false };
  const parsed = smsConfigSchema.parse(config);
  const accounts = createAccounts({
    config: parsed,
    provider: fakeProvider(parsed, pointed, failPointing),
    bindings,
    async *registrations() {
      yield* registered.entries();
    },
    incomingUrl: () => "https://gw.example.org/sms/sms.example.org/incoming",
    log: pino({ level: "silent" }),
  });
  return { accounts, bindings, pointed, registered, failPointing };
}

const tokenOf = async (accounts: ReturnType<typeof setup>["accounts"], id: string) => (await accounts.accountById(id))?.credentials.authToken;

const both = { operator: { accountSid: OPERATOR, authToken: "operator-token", numbers: ["+14155550100", "+14155550101"] }, ownAccounts: true };

test("with both modes, a user who fills in no Twilio account gets the number they picked from the operator", async () => {
  const { accounts, bindings } = setup(both);
  const form = await accounts.form(juliet);
  assert.deepEqual(
    form.fields.map((field) => [field.var, field.required]),
    [
      ["number", false],
      ["accountSid", false],
      ["authToken", false],
      ["ownNumber", false],
    ],
  );
  const fields = await accounts.register(juliet, { number: "+14155550101" });
  assert.deepEqual(fields, { mode: "operator", number: "+14155550101" });
  assert.deepEqual(bindings.map.get("+14155550101"), { user: juliet, accountSid: OPERATOR });
  assert.deepEqual(accounts.senderOf(fields), {
    account: { id: OPERATOR, credentials: { accountSid: OPERATOR, authToken: "operator-token" } },
    from: "+14155550101",
  });
});

test("with both modes, a user who fills in their Twilio account texts from their own number", async () => {
  const { accounts, bindings, pointed } = setup(both);
  const fields = await accounts.register(romeo, { accountSid: OWN, authToken: "good", ownNumber: "4155550199" });
  assert.deepEqual(fields, { mode: "own", accountSid: OWN, authToken: "good", ownNumber: "+14155550199" });
  assert.equal(pointed.get("PN1"), "https://gw.example.org/sms/sms.example.org/incoming");
  assert.equal(bindings.map.get("+14155550199")?.user, romeo);
  assert.equal(await tokenOf(accounts, OWN), "good");
  assert.equal(await tokenOf(accounts, OPERATOR), "operator-token");
});

test("changing to another operator number frees the old one", async () => {
  const { accounts, bindings } = setup(both);
  const first = await accounts.register(juliet, { number: "+14155550100" });
  await accounts.register(juliet, { number: "+14155550101" }, first);
  assert.equal(bindings.map.has("+14155550100"), false);
  assert.equal(bindings.map.get("+14155550101")?.user, juliet);
  assert.deepEqual(
    (await accounts.form(romeo)).fields[0]!.options!.map((option) => option.value),
    ["+14155550100"],
  );
});

test("two users asking for the last free number at the same moment: one gets it, the other is told it is taken", async () => {
  const { accounts } = setup({ operator: { accountSid: OPERATOR, authToken: "t", numbers: ["+14155550100"] } });
  const results = await Promise.allSettled([accounts.register(juliet, { number: "+14155550100" }), accounts.register(romeo, { number: "+14155550100" })]);
  assert.equal(results.filter((result) => result.status === "fulfilled").length, 1);
  const refused = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
  assert.ok(refused.reason instanceof GatewayError);
  assert.match(refused.reason.message, /taken|already used/);
});

test("when Twilio fails while the number is being pointed at the gateway, the user is told to retry and the number stays free", async () => {
  const { accounts, bindings, failPointing } = setup({ ownAccounts: true });
  failPointing.next = true;
  await assert.rejects(
    accounts.register(romeo, { accountSid: OWN, authToken: "good", ownNumber: "+14155550199" }),
    (error: unknown) => error instanceof GatewayError && error.condition === "remote-server-timeout" && /try again/.test(error.message),
  );
  assert.equal(bindings.map.size, 0);
  const fields = await accounts.register(juliet, { accountSid: OWN, authToken: "good", ownNumber: "+14155550199" });
  assert.equal(fields.ownNumber, "+14155550199");
});

test("a token learned by another gateway instance is found in the registrations", async () => {
  const { accounts, registered } = setup({ ownAccounts: true });
  registered.set(romeo, { mode: "own", accountSid: OWN, authToken: "from-the-store", ownNumber: "+14155550199" });
  assert.equal(await tokenOf(accounts, OWN), "from-the-store");
  assert.equal(await tokenOf(accounts, `AC${"3".repeat(32)}`), undefined);
});

test("the config refuses a gateway with neither operator numbers nor users' own accounts", () => {
  assert.equal(smsConfigSchema.safeParse({}).success, false);
  assert.equal(smsConfigSchema.safeParse({ ownAccounts: true }).success, true);
  assert.equal(smsConfigSchema.safeParse({ operator: { accountSid: "nope", authToken: "x", numbers: ["+14155550100"] } }).success, false);
});
