// Which transports the trial turns on, with settings that need nothing set up in advance:
// e-mail with personal accounts (each user registers their own mailbox) and SMS with
// bring-your-own Twilio accounts.
export interface TrialTransport {
  name: string;
  domain: string;
  what: string;
  /** YAML lines for the transport's own settings. */
  options: string[];
}

export function trialTransports(domain: string, options: { localMail?: boolean } = {}): TrialTransport[] {
  return [
    {
      name: "email",
      domain: `email.${domain}`,
      what: options.localMail ? "e-mail, register with a local mailbox below or your own" : "e-mail, register with your own mailbox",
      // The local mailboxes are on loopback, which the transport refuses unless told otherwise.
      options: ["mode: personal", ...(options.localMail ? ["allowPrivateServers: true"] : [])],
    },
    { name: "sms", domain: `sms.${domain}`, what: "SMS, register with your own Twilio account", options: ["ownAccounts: true"] },
  ];
}
