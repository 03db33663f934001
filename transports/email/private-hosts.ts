// Which hosts count as private (loopback, LAN, link-local): the gateway must not be talked into
// connecting to them on a user's behalf (mail servers named at registration, attachment URLs).
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

export function isPrivateAddress(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost") || bare.endsWith(".local") || bare.endsWith(".internal")) return true;
  if (isIP(bare) === 4) {
    const [a = 0, b = 0] = bare.split(".").map(Number);
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (isIP(bare) === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
    if (mapped) return isPrivateAddress(mapped[1]!);
    return bare === "::1" || bare === "::" || /^f[cd]/.test(bare) || /^fe[89ab]/.test(bare);
  }
  return false;
}

/** True when the name is private or resolves to a private address (or does not resolve). */
export async function resolvesPrivate(host: string): Promise<boolean> {
  if (isPrivateAddress(host)) return true;
  if (isIP(host.replace(/^\[|\]$/g, ""))) return false;
  try {
    const addresses = await lookup(host, { all: true });
    return addresses.length === 0 || addresses.some((entry) => isPrivateAddress(entry.address));
  } catch {
    return true;
  }
}
