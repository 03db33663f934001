// Keeps users out of the operator's network: every address the gateway connects to on a user's
// behalf (mail servers, attachment URLs) is checked as resolved, inside the connect step, and
// only global unicast passes (IANA special-purpose registries, RFC 6890; NAT64 RFC 6052/8215;
// 6to4 RFC 3056; Teredo RFC 4380).
import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupAddress } from "node:dns";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { Agent, buildConnector } from "undici";
import { GatewayError } from "../errors.js";

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a name resolves to (dns.lookup with all: true by default; tests give their own). */
export type Resolver = (host: string) => Promise<LookupAddress[]>;

export interface GuardOptions {
  /** Let private addresses through too (the operator's allowPrivateServers: trials and tests). */
  allowPrivate?: boolean;
  resolve?: Resolver;
  /** What the host is, for the sentence of a refusal ("IMAP server", "attachment host"). */
  role?: string;
}

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

const NAT64_WELL_KNOWN = ipaddr.parseCIDR("64:ff9b::/96");
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");

const RANGE_WORDS: Record<string, string> = {
  unspecified: "an unspecified address",
  broadcast: "the broadcast address",
  multicast: "a multicast address",
  linkLocal: "a link-local address",
  loopback: "a loopback address",
  carrierGradeNat: "a carrier-grade NAT address",
  private: "a private-network address",
  reserved: "a reserved address",
  uniqueLocal: "a unique-local address",
  deprecatedSiteLocal: "a site-local address",
  discard: "a discard-only address",
  benchmarking: "a benchmarking address",
};

/** Why an IP address is not global unicast, or undefined when it is. */
export function whyNotPublic(address: string): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return "not an IP address";
  }
  return parsed.kind() === "ipv4" ? whyNotPublicV4(parsed as ipaddr.IPv4) : whyNotPublicV6(parsed as ipaddr.IPv6);
}

export const isPublicAddress = (address: string): boolean => whyNotPublic(address) === undefined;

function whyNotPublicV4(ip: ipaddr.IPv4): string | undefined {
  const range = ip.range();
  return range === "unicast" ? undefined : (RANGE_WORDS[range] ?? `a special-purpose address (${range})`);
}

function whyNotPublicV6(ip: ipaddr.IPv6): string | undefined {
  if (ip.zoneId) return "a link-local address with a zone";
  const range = ip.range();
  const parts = ip.parts;
  const v4 = (high: number, low: number): ipaddr.IPv4 => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  // An IPv6 address that carries an IPv4 one reaches that IPv4 address: that one is checked.
  const carried = (inner: ipaddr.IPv4): string | undefined => {
    const why = whyNotPublicV4(inner);
    return why && `an address that carries ${inner.toString()}, ${why}`;
  };
  switch (range) {
    case "unicast":
      // Only 2000::/3 is handed out as global unicast; the rest (::/8 with the old IPv4-compatible form among it) is not.
      return ip.match(GLOBAL_UNICAST_V6) ? undefined : "outside the global unicast range";
    case "ipv4Mapped":
    case "rfc6145":
      return carried(v4(parts[6]!, parts[7]!));
    case "rfc6052":
      // 64:ff9b:1::/48 is for a network's own translators, where the IPv4 part may sit anywhere.
      return ip.match(NAT64_WELL_KNOWN) ? carried(v4(parts[6]!, parts[7]!)) : "a local-use NAT64 address";
    case "6to4":
      return carried(v4(parts[1]!, parts[2]!));
    case "teredo":
      return carried(v4(parts[2]!, parts[3]!)) ?? carried(v4(~parts[6]! & 0xffff, ~parts[7]! & 0xffff));
    default:
      return RANGE_WORDS[range] ?? `a special-purpose address (${range})`;
  }
}

const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const NUMBER_LABEL = /^(0x[0-9a-f]*|\d+)$/;

/**
 * What host text names, without any look-up: an IP address (checked now) or a name (to be checked
 * once resolved). Refuses at once what is private as written: localhost, private addresses in any
 * notation, and every short, decimal, hex or octal spelling of an address.
 */
export function checkHostText(host: string, options: GuardOptions): { ip: CheckedAddress } | { name: string } {
  const refusal = refuse(options);
  const bare = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
  if (!bare) throw refusal(host, "it is empty", "not-acceptable", "bad-host");
  let ip: CheckedAddress | undefined;
  if (bare.includes(":")) {
    if (!ipaddr.isValid(bare)) throw refusal(host, "it is not a host name or an IP address", "not-acceptable", "bad-host");
    ip = { address: bare, family: 6 };
  } else if (DOTTED_QUAD.test(bare)) {
    ip = { address: bare, family: 4 };
  } else if (bare.split(".").every((label) => NUMBER_LABEL.test(label))) {
    // 127.1, 2130706433, 0x7f.1, 0177.0.0.1: resolvers and URL parsers read these as addresses, each its own way.
    throw refusal(
      host,
      "it is an IP address written in a short, decimal, hex or octal form; write the server's name instead",
      "not-acceptable",
      "private-address",
    );
  }
  if (options.allowPrivate) return ip ? { ip } : { name: bare };
  if (ip) {
    const why = whyNotPublic(ip.address);
    if (why) throw refusal(host, `it is ${why}`, "not-acceptable", "private-address");
    return { ip: { address: ipaddr.parse(ip.address).toString(), family: ip.family } };
  }
  if (bare === "localhost" || bare.endsWith(".localhost")) throw refusal(host, "it names this machine", "not-acceptable", "private-address");
  return { name: bare };
}

/**
 * Resolves a host (a name or an IP address in any spelling) and returns every address it has,
 * each checked: one that is not global unicast refuses the whole host. Throws a GatewayError
 * with a sentence for a person.
 */
export async function checkedAddresses(host: string, options: GuardOptions = {}): Promise<CheckedAddress[]> {
  const refusal = refuse(options);
  const read = checkHostText(host, options);
  if ("ip" in read) return [read.ip];
  let found: LookupAddress[];
  try {
    found = await (options.resolve ?? systemResolver)(read.name);
  } catch (error) {
    throw refusal(host, `its name does not resolve (${(error as NodeJS.ErrnoException).code ?? "no answer"})`, "remote-server-not-found", "host-not-found");
  }
  if (found.length === 0) throw refusal(host, "its name does not resolve", "remote-server-not-found", "host-not-found");
  const addresses: CheckedAddress[] = [];
  for (const entry of found) {
    const why = options.allowPrivate ? undefined : whyNotPublic(entry.address);
    if (why) throw refusal(host, `it resolves to ${entry.address}, ${why}`, "not-acceptable", "private-address");
    addresses.push({ address: entry.address, family: entry.family === 6 ? 6 : 4 });
  }
  return addresses;
}

/** The address to connect to for a host: resolved once, checked, and used as it is (no second look-up). */
export async function checkPublicHost(host: string, options: GuardOptions = {}): Promise<CheckedAddress> {
  return (await checkedAddresses(host, options))[0]!;
}

/**
 * An undici dispatcher for fetch whose every connection goes to a checked address: the host of
 * each request (redirects and reconnects included) is resolved and checked in the connect step,
 * and the socket opens to that very address, so a name cannot change its answer in between.
 */
export function guardedAgent(options: GuardOptions & { connectTimeoutMs?: number } = {}): Agent {
  const connect = buildConnector({ timeout: options.connectTimeoutMs ?? 10_000 });
  if (options.allowPrivate) return new Agent({ connect });
  return new Agent({
    connect(target, callback) {
      checkPublicHost(target.hostname, options).then(
        (checked) => {
          const servername = target.servername ?? (isIP(target.hostname) ? undefined : target.hostname);
          connect({ ...target, hostname: checked.address, ...(servername && { servername }) }, callback);
        },
        (error: Error) => callback(error, null),
      );
    },
  });
}

const refuse =
  (options: GuardOptions) =>
  (host: string, why: string, condition: "not-acceptable" | "remote-server-not-found", code: string): GatewayError => {
    const tail = code === "private-address" ? "; this gateway only connects to public servers" : "";
    return new GatewayError(condition, `The ${options.role ?? "server"} ${host} cannot be used: ${why}${tail}.`, { code });
  };
