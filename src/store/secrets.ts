// Encryption at rest for registration secrets (passwords, API tokens): AES-256-GCM under a keyring.
// Sealing uses the current key; opening also tries the previous keys, so that an operator can
// change the key and re-seal at leisure (`switchboard rotate-key`).
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from "node:crypto";

/** Sealed before keyrings existed: no key id, so every key is tried. */
const PREFIX_V1 = "enc:v1:";
/** enc:v2:KEYID:IV:TAG:DATA, where KEYID names the key that sealed it. */
const PREFIX_V2 = "enc:v2:";

export interface SecretBox {
  seal(plain: string): string;
  /** Throws when no key of the ring opens the value (another key, or a damaged value). */
  open(sealed: string): string;
  /** True when the value was sealed by another key than the current one, or in the old format. */
  isStale(sealed: string): boolean;
}

interface Key {
  id: string;
  bytes: Buffer;
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX_V1) || value.startsWith(PREFIX_V2);
}

function deriveKey(passphrase: string): Key {
  // A fixed salt is fine: the passphrase is a long operator secret, not a user password.
  const bytes = scryptSync(passphrase, "switchboard/secret-box/v1", 32);
  // The id is a hash of the derived key: it tells keys apart without helping anyone guess one.
  const id = createHash("sha256").update("switchboard/key-id").update(bytes).digest("base64url").slice(0, 8);
  return { id, bytes };
}

export function createSecretBox(current: string, previous: readonly string[] = []): SecretBox {
  const ring = [current, ...previous.filter((key) => key !== current)].map(deriveKey);
  const key = ring[0]!;

  const decrypt = (bytes: Buffer, parts: string[]): string => {
    const [iv, tag, data] = parts.map((part) => Buffer.from(part, "base64url"));
    if (parts.length !== 3 || !iv || !tag || !data) throw new Error("sealed value is damaged");
    const decipher = createDecipheriv("aes-256-gcm", bytes, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString("utf8");
  };

  /** The keys to try, the one named by the value first. */
  const candidates = (id: string | undefined): Key[] => {
    const named = ring.find((entry) => entry.id === id);
    return named ? [named, ...ring.filter((entry) => entry !== named)] : ring;
  };

  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key.bytes, iv);
      const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return `${PREFIX_V2}${key.id}:${[iv, cipher.getAuthTag(), data].map((part) => part.toString("base64url")).join(":")}`;
    },
    open(sealed) {
      let id: string | undefined;
      let parts: string[];
      if (sealed.startsWith(PREFIX_V2)) {
        [id = "", ...parts] = sealed.slice(PREFIX_V2.length).split(":");
      } else if (sealed.startsWith(PREFIX_V1)) {
        parts = sealed.slice(PREFIX_V1.length).split(":");
      } else {
        throw new Error("value is not sealed");
      }
      for (const candidate of candidates(id)) {
        try {
          return decrypt(candidate.bytes, parts);
        } catch {
          // the next key, if any
        }
      }
      throw new Error("no key of the ring opens this sealed value (the key changed, or the value is damaged)");
    },
    isStale(sealed) {
      return !sealed.startsWith(`${PREFIX_V2}${key.id}:`);
    },
  };
}
