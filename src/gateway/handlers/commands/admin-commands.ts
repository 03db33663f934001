// Operator commands, for the JIDs listed under access.admins: the gateway's own, then XEP-0133's.
import type { Logger } from "pino";
import { gatewayError } from "../../../errors.js";
import { getLogLevel, setLogLevel } from "../../../log.js";
import type { Metrics } from "../../../metrics.js";
import { parseJid, type BareJid } from "../../../xmpp/jid.js";
import type { Accounts } from "../../state/accounts.js";
import type { Gateway } from "../../gateway.js";
import type { Outbox } from "../../delivery/outbox.js";
import type { Command } from "./command.js";
import { keyValues } from "./command.js";
import { serviceAdminCommands } from "./service-admin.js";
import { pageOf, shortened, VALUE_CHARS } from "./answer-size.js";

export interface AdminCommandDeps {
  gateway: Gateway;
  accounts: Accounts;
  outbox: Outbox;
  metrics: Metrics;
  rootLog: Logger;
}

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"];

/** Users a page of the `users` listing shows: 100 lines of a JID cut to VALUE_CHARS and a date are under 100 KB (a JID has no character XML escapes). */
const USERS_PER_PAGE = 100;

const jidField = { var: "jid", label: "User's JID", type: "text-single" as const, required: true };

export function adminCommands({ gateway, accounts, outbox, metrics, rootLog }: AdminCommandDeps): Command[] {
  const { registrations, transport, domain } = gateway;
  const targetOf = (value: string | undefined): BareJid => {
    const jid = parseJid((value ?? "").trim());
    if (!jid.local || !jid.domain) throw gatewayError("jid-malformed", "Give the user's bare JID, like alice@example.org.");
    return jid.bare;
  };
  const describe = async (user: BareJid): Promise<string> => {
    const registration = await registrations.get(user);
    if (!registration) throw gatewayError("item-not-found", `${user} is not registered with ${domain}.`);
    const fields = Object.entries(registration.fields).map(
      ([name, value]) => `${name}: ${transport.secretFields.includes(name) ? "(secret, set)" : shortened(value, VALUE_CHARS)}`,
    );
    return [`${user}, registered ${registration.registeredAt.toISOString()}`, ...fields].join("\n");
  };

  return [
    {
      node: "admin-users",
      name: "Admin: list users",
      admin: true,
      async run(_caller, values) {
        const users: string[] = [];
        for await (const registration of registrations.all())
          users.push(`${shortened(registration.user, VALUE_CHARS)} (since ${registration.registeredAt.toISOString().slice(0, 10)})`);
        if (users.length === 0) return { note: "No one is registered." };
        const page = pageOf(users.sort(), values.page, USERS_PER_PAGE, "users");
        const heading = page.range ? `Registered users ${page.range}:` : `${users.length} registered:`;
        return { note: [heading, ...page.lines, page.closing].filter(Boolean).join("\n") };
      },
      chat: { keyword: "users", usage: "users [PAGE]", parse: (args) => ({ page: args.trim() }) },
    },
    {
      node: "admin-show-user",
      name: "Admin: show a user's registration",
      admin: true,
      form: async () => ({ title: "Show a registration", instructions: "Whose registration?", fields: [jidField] }),
      run: async (_caller, values) => ({ note: await describe(targetOf(values.jid)) }),
      chat: { keyword: "user", usage: "user JID", parse: (args) => ({ jid: args.trim() }) },
    },
    {
      node: "admin-edit-user",
      name: "Admin: change a user's settings (assign a number…)",
      admin: true,
      form: async () => ({ title: "Change a registration", instructions: "Whose registration?", fields: [jidField] }),
      async run(_caller, values, state) {
        if (!state?.jid) {
          const user = targetOf(values.jid);
          const { form, registered } = await accounts.form(user);
          if (!registered) throw gatewayError("item-not-found", `${user} is not registered with ${domain}.`);
          return { form: { ...form, title: `Settings of ${user}` }, state: { jid: user } };
        }
        const user = targetOf(state.jid);
        await accounts.register(user, values);
        return { note: `Saved.\n${await describe(user)}` };
      },
      chat: {
        keyword: "edit",
        usage: "edit JID field=value …",
        parse: (args) => {
          const [jid = "", ...rest] = args.trim().split(/\s+/);
          return { ...keyValues(rest.join(" ")), jid };
        },
      },
    },
    {
      node: "admin-unregister-user",
      name: "Admin: unregister a user",
      admin: true,
      form: async () => ({ title: "Unregister a user", instructions: "Removes the user's registration and everything stored for them.", fields: [jidField] }),
      async run(_caller, values) {
        const user = targetOf(values.jid);
        await accounts.unregister(user);
        return { note: `${user} is unregistered.` };
      },
      chat: { keyword: "remove", usage: "remove JID", parse: (args) => ({ jid: args.trim() }) },
    },
    {
      node: "admin-stats",
      name: "Admin: statistics",
      admin: true,
      async run() {
        let users = 0;
        for await (const _user of registrations.users()) users += 1;
        const counts = (await metrics.messages.get()).values.filter((value) => value.labels.transport === transport.name);
        const lines = counts.map((value) => `messages ${value.labels.direction} ${value.labels.result}: ${value.value}`).sort();
        return { note: [`registered users: ${users}`, `outbox waiting: ${outbox.pending()}`, `link: ${gateway.linkState()}`, ...lines].join("\n") };
      },
      chat: { keyword: "stats", usage: "stats", parse: () => ({}) },
    },
    {
      node: "admin-log-level",
      name: "Admin: set the log level",
      admin: true,
      form: async () => ({
        title: "Log level",
        instructions: `Now: ${getLogLevel(rootLog)}. Applies to the whole gateway until it restarts.`,
        fields: [
          {
            var: "level",
            label: "Level",
            type: "list-single",
            required: true,
            value: getLogLevel(rootLog),
            options: LEVELS.map((level) => ({ label: level, value: level })),
          },
        ],
      }),
      async run(caller, values) {
        const level = (values.level ?? "").trim();
        if (!LEVELS.includes(level)) throw gatewayError("not-acceptable", `The log level is one of ${LEVELS.join(", ")}.`);
        setLogLevel(rootLog, level as Parameters<typeof setLogLevel>[1]);
        rootLog.info({ by: caller.user, level }, "log level changed");
        return { note: `Log level is now ${level}.` };
      },
      chat: { keyword: "loglevel", usage: `loglevel ${LEVELS.join("|")}`, parse: (args) => ({ level: args.trim() }) },
    },
    ...serviceAdminCommands({ gateway, accounts }),
  ];
}
