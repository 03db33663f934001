// Reads switchboard.yaml, fills ${ENV} and ${file:PATH} references and validates; errors name the
// key at fault.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { configSchema, type Config } from "./schema.js";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
  }
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError([`cannot read ${path}: ${(error as Error).message}`]);
  }
  return parseConfig(text, env);
}

export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError([`not valid YAML: ${(error as Error).message}`]);
  }
  const problems: string[] = [];
  const filled = substituteEnv(raw, env, [], problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return validate(configSchema, filled);
}

export function validate<T>(schema: z.ZodType<T>, value: unknown, prefix: Array<string | number> = []): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map(
      (issue) => `${keyName([...prefix, ...issue.path.map((part) => (typeof part === "symbol" ? String(part) : part))])}: ${issue.message}`,
    ),
  );
}

const keyName = (path: Array<string | number>): string => (path.length === 0 ? "(top level)" : path.join("."));

// "${NAME}" or "${NAME:-fallback}" inside any string value: an environment variable.
// "${file:PATH}": the contents of a file, less one final line break, for secrets that systemd hands
// over as credentials (LoadCredential=): "${file:$CREDENTIALS_DIRECTORY/secret_key}". $NAME in PATH
// is an environment variable. What a file holds is taken as it is: no references are read in it.
const REFERENCE = /\$\{file:([^}]+)\}|\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/gi;

function readReferencedFile(spec: string, env: NodeJS.ProcessEnv, key: string, problems: string[]): string {
  let unset = false;
  const path = spec.trim().replace(/\$([A-Z_][A-Z0-9_]*)/gi, (_match, name: string) => {
    const found = env[name];
    if (found === undefined) {
      unset = true;
      problems.push(
        `${key}: environment variable ${name} is not set${name === "CREDENTIALS_DIRECTORY" ? " (systemd sets it when the unit has LoadCredential=)" : ""}`,
      );
    }
    return found ?? "";
  });
  if (unset) return "";
  try {
    return readFileSync(path, "utf8").replace(/\r?\n$/, "");
  } catch (error) {
    problems.push(`${key}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return "";
  }
}

function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: Array<string | number>, problems: string[]): unknown {
  if (typeof value === "string") {
    const whole = value.match(/^\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}$/i);
    const replaced = value.replace(REFERENCE, (_match, file: string | undefined, name: string, fallback: string | undefined) => {
      if (file !== undefined) return readReferencedFile(file, env, keyName(path), problems);
      const found = env[name] ?? fallback;
      if (found === undefined) problems.push(`${keyName(path)}: environment variable ${name} is not set`);
      return found ?? "";
    });
    // A value that is only a reference may stand for a number or a boolean (ports, flags).
    if (whole && /^\d+$/.test(replaced)) return Number(replaced);
    if (whole && (replaced === "true" || replaced === "false")) return replaced === "true";
    return replaced;
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, env, [...path, index], problems));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteEnv(item, env, [...path, key], problems)]));
  }
  return value;
}
