// What a user can do with their account besides XEP-0077: settings, address, contacts, names, and
// the transport's own preferences.
import { gatewayError } from "../../../errors.js";
import type { Fields, TransportPreference } from "../../../transport/contract.js";
import type { Accounts } from "../../state/accounts.js";
import type { Gateway } from "../../gateway.js";
import { transportOptions, type PreferenceStore } from "../../state/preferences.js";
import type { Command } from "./command.js";
import { keyValues } from "./command.js";
import { pageOf, shortened, VALUE_CHARS } from "./answer-size.js";

export interface UserCommandDeps {
  gateway: Gateway;
  accounts: Accounts;
  preferences: PreferenceStore;
  /** Put a contact in the user's roster by the best means the server and client allow. */
  addToRoster(user: string, address: string, name?: string): Promise<string>;
}

/** Contacts a page of the `contacts` listing shows: 50 lines of at most VALUE_CHARS are under 80 KB even if every character were escaped as "&amp;". */
const CONTACTS_PER_PAGE = 50;

const yes = (value: string | undefined): boolean => ["1", "true", "yes", "y"].includes((value ?? "").toLowerCase());

/** "Label: chosen option" for each of the transport's own settings. */
function describeOptions(declared: readonly TransportPreference[] | undefined, chosen: Record<string, string>): string[] {
  const values = transportOptions(declared, chosen);
  return (declared ?? []).map(
    (preference) => `${preference.label}: ${preference.options.find((option) => option.value === values[preference.var])?.label ?? values[preference.var]}`,
  );
}

export function userCommands({ gateway, accounts, preferences, addToRoster }: UserCommandDeps): Command[] {
  const { transport, registrations, contacts } = gateway;
  const own = transport.preferences ?? [];
  const describe = (fields: Fields): string =>
    Object.entries(fields)
      .filter(([name]) => !transport.secretFields.includes(name))
      .map(([name, value]) => `${name}: ${shortened(value, VALUE_CHARS)}`)
      .join("\n");

  return [
    {
      node: "register",
      name: "Register or change settings",
      form: async ({ user }) => (await accounts.form(user)).form,
      async run({ user }, values) {
        const { isNew } = await accounts.register(user, values);
        return { note: isNew ? `You are registered with ${transport.displayName}.` : "Your settings are saved." };
      },
      chat: { keyword: "register", usage: "register field=value … (send 'settings' to see the fields)", parse: (args) => keyValues(args) },
    },
    {
      node: "settings",
      name: "Show my address and settings",
      registeredOnly: true,
      async run({ user }) {
        const registration = await registrations.get(user);
        if (!registration) throw gatewayError("registration-required", "You are not registered with this gateway.");
        const prefs = await preferences.get(user);
        const form = (await accounts.form(user)).form;
        const fieldNames = form.fields.map((field) => `${field.var} (${field.label})`).join(", ");
        return {
          note: [
            `Registered since ${registration.registeredAt.toISOString().slice(0, 10)}.`,
            describe(registration.fields),
            `display name: ${prefs.displayName ?? "(from your client)"}`,
            `receipts: ${prefs.receipts ? "on" : "off"}`,
            ...describeOptions(gateway.transport.preferences, prefs.options),
            `Fields you can change with 'register': ${fieldNames}.`,
          ].join("\n"),
        };
      },
      chat: { keyword: "settings", usage: "settings", parse: () => ({}) },
    },
    {
      node: "contacts",
      name: "List my contacts",
      registeredOnly: true,
      async run({ user }, values) {
        const known = Object.entries(await contacts.list(user));
        if (known.length === 0) return { note: "You have no contacts through this gateway yet." };
        const lines = known.map(([address, entry]) =>
          shortened(`${entry.name ? `${shortened(entry.name)} ` : ""}<${address}>: ${contacts.jidOf(address)}`, VALUE_CHARS),
        );
        const page = pageOf(lines, values.page, CONTACTS_PER_PAGE, "contacts");
        return { note: [page.range && `Contacts ${page.range}:`, ...page.lines, page.closing].filter(Boolean).join("\n") };
      },
      chat: { keyword: "contacts", usage: "contacts [PAGE]", parse: (args) => ({ page: args.trim() }) },
    },
    {
      node: "add-contact",
      name: "Add a contact",
      registeredOnly: true,
      form: async () => ({
        title: "Add a contact",
        instructions: transport.address.description,
        fields: [
          { var: "address", label: transport.address.prompt, type: "text-single", required: true },
          { var: "name", label: "Name", type: "text-single" },
        ],
      }),
      async run({ user }, values) {
        if (!values.address?.trim()) throw gatewayError("bad-request", `Give the ${transport.address.prompt.toLowerCase()} to add.`);
        const address = contacts.parse(values.address);
        const how = await addToRoster(user, address, values.name?.trim() ? shortened(values.name) : undefined);
        return { note: `${address} is ${contacts.jidOf(address)}; ${how}` };
      },
      chat: {
        keyword: "add",
        usage: 'add ADDRESS [name="Their Name"]',
        parse: (args) => {
          const fields = keyValues(args);
          const address = args.replace(/\w[\w-]*=("[^"]*"|\S*)/g, "").trim();
          return { ...fields, ...(address && { address }) };
        },
      },
    },
    {
      node: "display-name",
      name: "Set my display name",
      registeredOnly: true,
      form: async ({ user }) => ({
        title: "Display name",
        instructions: "The name people see on your messages (leave empty to use the nickname your client sends).",
        fields: [{ var: "name", label: "Display name", type: "text-single", value: (await preferences.get(user)).displayName ?? "" }],
      }),
      async run({ user }, values) {
        const name = values.name?.trim().slice(0, 100);
        await preferences.update(user, { displayName: name || undefined });
        return { note: name ? `Your display name is now "${name}".` : "Your display name now comes from your client." };
      },
      chat: { keyword: "name", usage: "name Your Name (or 'name' alone to clear it)", parse: (args) => ({ name: args }) },
    },
    {
      node: "preferences",
      name: own.length > 0 ? `Receipts and ${own.map((preference) => preference.label.toLowerCase()).join(", ")}` : "Receipts",
      registeredOnly: true,
      form: async ({ user }) => {
        const prefs = await preferences.get(user);
        const values = transportOptions(own, prefs.options);
        return {
          title: "Preferences",
          instructions: "Choose what the gateway passes on to you.",
          fields: [
            { var: "receipts", label: "Pass on delivery receipts", type: "boolean", value: prefs.receipts ? "true" : "false" },
            ...own.map((preference) => ({
              var: preference.var,
              label: preference.label,
              type: "list-single" as const,
              value: values[preference.var],
              options: preference.options,
            })),
          ],
        };
      },
      async run({ user }, values) {
        const change: Parameters<PreferenceStore["update"]>[1] = {};
        if (values.receipts !== undefined && values.receipts !== "") change.receipts = yes(values.receipts);
        const options: Record<string, string> = {};
        for (const preference of own) {
          const value = values[preference.var];
          if (value === undefined || value === "") continue;
          if (!preference.options.some((option) => option.value === value)) {
            throw gatewayError("not-acceptable", `${preference.label} is one of: ${preference.options.map((option) => option.value).join(", ")}.`);
          }
          options[preference.var] = value;
        }
        if (Object.keys(options).length > 0) change.options = options;
        const prefs = await preferences.update(user, change);
        return { note: [`Receipts ${prefs.receipts ? "on" : "off"}.`, ...describeOptions(own, prefs.options)].join(" ") };
      },
      chat: {
        keyword: "set",
        usage: ["set receipts=on|off", ...own.map((preference) => `${preference.var}=${preference.options.map((option) => option.value).join("|")}`)].join(" "),
        parse: (args) => {
          const fields = keyValues(args);
          if (fields.receipts) fields.receipts = yes(fields.receipts) || fields.receipts === "on" ? "true" : "false";
          return fields;
        },
      },
    },
    {
      node: "unregister",
      name: "Unregister",
      registeredOnly: true,
      form: async () => ({
        title: "Unregister",
        instructions: "This removes your account from the gateway, its contacts from your roster and everything the gateway stored for you.",
        fields: [{ var: "confirm", label: "Yes, unregister me", type: "boolean", required: true }],
      }),
      async run({ user }, values) {
        if (!yes(values.confirm)) return { note: "Nothing changed: you are still registered." };
        await accounts.unregister(user);
        return { note: "You are unregistered. Everything the gateway stored for you is gone." };
      },
      chat: { keyword: "unregister", usage: "unregister yes", parse: (args) => ({ confirm: args.trim() }) },
    },
  ];
}
