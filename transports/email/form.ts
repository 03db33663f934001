// The registration form (XEP-0077 with XEP-0004) for each mode.
import type { FormField, Fields, RegistrationForm } from "../../src/transport/contract.js";
import type { BareJid } from "../../src/transport/index.js";
import { FIELD } from "./account.js";
import type { EmailConfig } from "./config.js";

/** Where the password goes: changing any of these needs the password typed again (the security
 *  setting too, since "none" would send it in the clear). */
const PASSWORD_BOUND_TO = [
  FIELD.address,
  FIELD.imapHost,
  FIELD.imapPort,
  FIELD.imapSecurity,
  FIELD.smtpHost,
  FIELD.smtpPort,
  FIELD.smtpSecurity,
  FIELD.username,
];

export function secretBinding(secretField: string): readonly string[] {
  return secretField === FIELD.password ? PASSWORD_BOUND_TO : [];
}

const SECURITY_OPTIONS = [
  { label: "TLS from the start (IMAP 993, SMTP 465)", value: "tls" },
  { label: "STARTTLS (IMAP 143, SMTP 587)", value: "starttls" },
  { label: "None (unencrypted; local servers only)", value: "none" },
];

export function registrationForm(config: EmailConfig, user: BareJid, current?: Fields): RegistrationForm {
  const value = (name: string, fallback = ""): string => current?.[name] ?? fallback;
  // The spam policy ("only mail from people I wrote to") is a core preference, set by command.
  const common: FormField[] = [{ var: FIELD.name, label: "Your name (shown in From)", type: "text-single", value: value(FIELD.name) }];
  if (config.mode === "hosted" && config.hosted) {
    const domain = config.hosted.domain;
    const node = user.includes("@") ? user.split("@")[0]! : "";
    return {
      title: "E-mail address",
      instructions: `Choose your e-mail address on ${domain}. Mail to it arrives here as chat messages; write to name\\40example.org@ this gateway to send mail.`,
      fields: [
        {
          var: FIELD.address,
          label: `Address (the part before @${domain})`,
          type: "text-single",
          required: true,
          value: value(FIELD.address, node).split("@")[0],
        },
        ...common,
      ],
    };
  }
  return {
    title: "Your mailbox",
    instructions:
      "Enter your e-mail account. The gateway reads new mail by IMAP and sends your messages through your SMTP server; your password is stored encrypted.",
    fields: [
      { var: FIELD.address, label: "E-mail address", type: "text-single", required: true, value: value(FIELD.address) },
      { var: FIELD.imapHost, label: "IMAP server", type: "text-single", required: true, value: value(FIELD.imapHost) },
      { var: FIELD.imapPort, label: "IMAP port", type: "text-single", value: value(FIELD.imapPort, "993") },
      { var: FIELD.imapSecurity, label: "IMAP security", type: "list-single", options: SECURITY_OPTIONS, value: value(FIELD.imapSecurity, "tls") },
      { var: FIELD.smtpHost, label: "SMTP server", type: "text-single", required: true, value: value(FIELD.smtpHost) },
      { var: FIELD.smtpPort, label: "SMTP port", type: "text-single", value: value(FIELD.smtpPort, "587") },
      { var: FIELD.smtpSecurity, label: "SMTP security", type: "list-single", options: SECURITY_OPTIONS, value: value(FIELD.smtpSecurity, "starttls") },
      { var: FIELD.username, label: "User name (if not the address)", type: "text-single", value: value(FIELD.username) },
      { var: FIELD.password, label: "Password", type: "text-private", required: true },
      ...common,
    ],
  };
}
