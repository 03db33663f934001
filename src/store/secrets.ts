// Encryption at rest for registration secrets (passwords, API tokens): AES-256-GCM.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";

const PREFIX = "enc:v1:";

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function createSecretBox(passphrase: string): SecretBox {
  // A fixed salt is fine: the passphrase is a long operator secret, not a user password.
  const key = scryptSync(passphrase, "switchboard/secret-box/v1", 32);
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return PREFIX + [iv, cipher.getAuthTag(), data].map((part) => part.toString("base64url")).join(":");
    },
    open(sealed) {
      if (!sealed.startsWith(PREFIX)) throw new Error("value is not sealed");
      const [iv, tag, data] = sealed.slice(PREFIX.length).split(":").map((part) => Buffer.from(part, "base64url"));
      if (!iv || !tag || !data) throw new Error("sealed value is damaged");
      const decipher = createDecipheriv("aes-256-gcm", key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(data), decipher.final()]).toString("utf8");
    },
  };
}
