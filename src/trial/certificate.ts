// The trial's TLS certificate: self-signed for its domain and the transports' subdomains, made once
// with Debian's openssl and kept in the trial's folder, so that clients that refuse to send a
// password in clear (Dino, Conversations, Monal, Gajim) can log in after accepting it once.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface TrialCertificate {
  certificate: string;
  key: string;
  /** SHA-256 of the certificate, as clients show it: colon-separated upper-case hex. */
  fingerprint: string;
}

export function ensureCertificate(dir: string, domain: string): TrialCertificate {
  const certificate = join(dir, `${domain}.crt`);
  const key = join(dir, `${domain}.key`);
  if (!existsSync(certificate) || !existsSync(key)) {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-sha256",
        "-days",
        "825",
        "-nodes",
        "-keyout",
        key,
        "-out",
        certificate,
        "-subj",
        `/CN=${domain}`,
        "-addext",
        `subjectAltName=DNS:${domain},DNS:*.${domain}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
  }
  const printed = execFileSync("openssl", ["x509", "-noout", "-fingerprint", "-sha256", "-in", certificate], { encoding: "utf8" });
  const fingerprint = printed.slice(printed.indexOf("=") + 1).trim();
  return { certificate, key, fingerprint };
}
