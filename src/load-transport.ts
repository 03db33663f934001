// Finds a transport by name (transports/<name>/index.js) or by the module path the config gives.
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, validate } from "./config/load.js";
import type { TransportSection } from "./config/schema.js";
import type { TransportModule } from "./transport/contract.js";

export async function loadTransportModule(name: string, section: TransportSection): Promise<TransportModule> {
  const url = section.module
    ? pathToFileURL(isAbsolute(section.module) ? section.module : resolve(section.module)).href
    : new URL(`../transports/${name}/index.js`, import.meta.url).href;
  let loaded: { default?: TransportModule; transport?: TransportModule };
  try {
    loaded = (await import(url)) as typeof loaded;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" && !section.module) throw new ConfigError([`transports.${name}: there is no transport called "${name}"`]);
    throw new ConfigError([`transports.${name}: cannot load ${section.module ?? name}: ${(error as Error).message}`]);
  }
  const module = loaded.transport ?? loaded.default;
  if (!module || typeof module.create !== "function") throw new ConfigError([`transports.${name}: ${url} does not export a transport`]);
  return module;
}

/** The transport's own settings (everything in its section but domain, secret and module), validated. */
export function transportOptions<Config>(name: string, module: TransportModule<Config>, section: TransportSection): Config {
  const { domain: _domain, secret: _secret, module: _module, messagesPerDay: _perDay, ...rest } = section;
  return validate(module.configSchema, rest, ["transports", name]);
}
