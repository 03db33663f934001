#!/usr/bin/env node
// switchboard [run] --config FILE | check-config FILE | rotate-key FILE | trial | help [COMMAND]
import { parseArgs } from "node:util";
import { serverDomainOf } from "./app.js";
import { run } from "./run.js";
import { ConfigError, loadConfigFile } from "./config/load.js";
import { loadTransportModule, transportOptions } from "./load-transport.js";
import { VERSION } from "./version.js";

/** Each command's usage, shown by `switchboard help COMMAND` and `switchboard COMMAND --help`. */
const COMMANDS: Record<string, string> = {
  run: `switchboard [run] --config FILE
  Runs the gateway until SIGTERM or SIGINT. SIGHUP reads FILE again: limits, the log level and
  the access lists change at once; the log names what needs a restart.`,
  "check-config": `switchboard check-config FILE
  Validates FILE (and each transport's section) without connecting anywhere; exit code 2 names
  the keys at fault.`,
  "rotate-key": `switchboard rotate-key FILE
  Re-seals stored secrets with store.secretKey (old keys in store.previousSecretKeys); best with
  the gateway stopped.`,
  trial: `switchboard trial [--dir DIR] [--with-mail]
  Sets up a local Prosody (with TLS) in DIR (default .trial) and runs the gateway against it;
  --with-mail adds local mailboxes (Dovecot) for alice and bob.`,
};

const USAGE = `Switchboard ${VERSION}: e-mail and SMS as Jabber contacts.

Usage:
${Object.values(COMMANDS)
  .map((text) => `  ${text.replace(/\n/g, "\n  ")}`)
  .join("\n")}
  switchboard help [COMMAND]
  switchboard --version`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: "string", short: "c" },
        dir: { type: "string" },
        "with-mail": { type: "boolean" },
        version: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    console.log(VERSION);
    return 0;
  }
  const [command, file] = positionals;
  if (command === "help" || values.help) {
    const topic = command === "help" ? file : command;
    if (topic !== undefined && !COMMANDS[topic]) {
      console.error(`unknown command "${topic}"\n\n${USAGE}`);
      return 64;
    }
    console.log(topic ? `Usage: ${COMMANDS[topic]}` : USAGE);
    return 0;
  }
  if (command === "check-config") return checkConfig(file ?? values.config);
  if (command === "rotate-key") return rotateKeyCommand(file ?? values.config);
  if (command === "trial") {
    const { runTrial } = await import("./trial/trial.js");
    return runTrial(values.dir ?? ".trial", { withMail: values["with-mail"] ?? false });
  }
  if (command === "run" || command === undefined) {
    const path = values.config ?? file;
    if (!path) {
      console.error(USAGE);
      return 64;
    }
    return run(path);
  }
  console.error(`unknown command "${command}"\n\n${USAGE}`);
  return 64;
}

async function rotateKeyCommand(path: string | undefined): Promise<number> {
  if (!path) {
    console.error("usage: switchboard rotate-key FILE");
    return 64;
  }
  try {
    const { rotateKey } = await import("./store/rotate-key.js");
    return await rotateKey(loadConfigFile(path));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${path}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

async function checkConfig(path: string | undefined): Promise<number> {
  if (!path) {
    console.error("usage: switchboard check-config FILE");
    return 64;
  }
  try {
    const config = loadConfigFile(path);
    for (const [name, section] of Object.entries(config.transports)) {
      transportOptions(name, await loadTransportModule(name, section), section);
    }
    const transports = Object.entries(config.transports).map(([name, section]) => `${name} → ${section.domain}`);
    console.log(
      `${path}: OK. Server ${config.xmpp.host}:${config.xmpp.port} (users at ${serverDomainOf(config)}); transports: ${transports.join(", ") || "none"}.`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${path}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

process.on("unhandledRejection", (reason) => {
  // One bad promise must not take the gateway down; it is a bug to log and fix.
  console.error(JSON.stringify({ level: 50, msg: "unhandled rejection", err: String((reason as Error)?.stack ?? reason) }));
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
