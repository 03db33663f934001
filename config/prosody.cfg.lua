-- Prosody side of Switchboard: add these lines to /etc/prosody/prosody.cfg.lua (or a file in
-- /etc/prosody/conf.d/), then `prosodyctl reload`. Replace example.org with your domain.

-- The listener Switchboard connects to (XEP-0114). Keep it on loopback unless Switchboard runs
-- on another machine; the component secret is the only thing that protects it.
component_ports = { 5347 }
component_interfaces = { "127.0.0.1" }

-- One Component block per transport you enable in switchboard.yaml. The domain must match
-- transports.<name>.domain there, the secret transports.<name>.secret.
Component "email.example.org"
    component_secret = "change-me-email-secret"

Component "sms.example.org"
    component_secret = "change-me-sms-secret"

-- Optional: let the transports put contacts straight into their users' rosters (XEP-0356).
-- Needs mod_privilege from Debian's prosody-modules package, loaded on the VirtualHost AND on
-- each Component (add  modules_enabled = { "privilege" }  under both). Inside your VirtualHost:
--   privileged_entities = {
--       ["email.example.org"] = { roster = "both"; message = "outgoing" };
--       ["sms.example.org"] = { roster = "both"; message = "outgoing" };
--   }
-- To also bookmark a mail thread's group chat for its user (XEP-0402, docs/groups.md), give the
-- e-mail transport  iq = { ["http://jabber.org/protocol/pubsub"] = "set" }  in its entry and load
-- "pep" and "bookmarks" on the VirtualHost.

-- Prosody lists components that are subdomains of a VirtualHost in that host's service
-- discovery by itself, so clients find the transports without further set-up.
