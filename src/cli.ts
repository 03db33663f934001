#!/usr/bin/env node
// switchboard --config FILE | switchboard check-config FILE | switchboard rotate-key FILE | switchboard trial
import { parseArgs } from "node:util";
import { serverDomainOf } from "./app.js";
import { run } from "./run.js";
import { ConfigError, loadConfigFile } from "./config/load.js";
import { loadTransportModule, transportOptions } from "./load-transport.js";
import { VERSION } from "./version.js";

const USAGE = `Switchboard ${VERSION}: e-mail and SMS as Jabber contacts.

Usage:
  switchboard --config FILE          run the gateway
  switchboard check-config FILE      validate FILE without connecting anywhere
  switchboard rotate-key FILE        re-seal stored secrets with store.secretKey (old keys in
                                     store.previousSecretKeys); best with the gateway stopped
  switchboard trial [--dir DIR] [--with-mail]
                                     set up a local Prosody (with TLS) and run the gateway against it;
                                     --with-mail adds local mailboxes (Dovecot) for alice and bob
  switchboard --version`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
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
  if (values.version) {
    console.log(VERSION);
    return 0;
  }
  const [command, file] = positionals;
  if (values.help) {
    console.log(USAGE);
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
    console.log(`${path}: OK. Server ${config.xmpp.host}:${config.xmpp.port} (users at ${serverDomainOf(config)}); transports: ${transports.join(", ") || "none"}.`);
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
