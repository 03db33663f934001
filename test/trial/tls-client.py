"""A Jabber client that insists on TLS (slixmpp): it logs in only over STARTTLS, checks the
server's certificate against the one given, registers with a gateway through its data form, then
sends what it is told on stdin ("send JID BODY") and prints what arrives, as JSON lines."""
import asyncio
import json
import sys
import threading

import slixmpp
from slixmpp.xmlstream import ET

jid, password, port, ca_file, gateway, fields_json = sys.argv[1:7]
fields = json.loads(fields_json)


def report(**values):
    print(json.dumps(values), flush=True)


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        for plugin in ("xep_0004", "xep_0030"):
            self.register_plugin(plugin)
        # Never send a password in clear: without TLS there is nothing to log in with.
        self["feature_mechanisms"].unencrypted_plain = False
        self.ssl_context.load_verify_locations(cafile=ca_file)
        self.add_event_handler("tls_success", lambda _event: report(step="tls"))
        self.add_event_handler("failed_auth", lambda _event: report(step="failed_auth"))
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("presence_subscribe", lambda presence: self.send_presence(pto=presence["from"], ptype="subscribed"))

    async def start(self, _event):
        await self.get_roster()
        self.send_presence()
        iq = self.make_iq_set(ito=gateway)
        query = ET.Element("{jabber:iq:register}query")
        form = self["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value="jabber:iq:register")
        for name, value in fields.items():
            form.add_field(var=name, value=value)
        query.append(form.xml)
        iq.append(query)
        try:
            result = await iq.send(timeout=30)
            report(step="registered", type=result["type"])
        except slixmpp.exceptions.IqError as error:
            report(step="registered", type="error", text=error.text)

    def on_message(self, message):
        if message["type"] in ("chat", "normal") and message["body"]:
            report(step="received", sender=str(message["from"].bare), body=message["body"])


def read_commands(client, loop):
    for line in sys.stdin:
        words = line.strip().split(" ", 2)
        if words[0] == "send" and len(words) == 3:
            loop.call_soon_threadsafe(lambda to=words[1], body=words[2]: (client.send_message(mto=to, mbody=body, mtype="chat"), report(step="sent", to=to)))
        elif words[0] == "quit":
            break
    loop.call_soon_threadsafe(client.disconnect)


async def main():
    client = Client()
    client.connect(("127.0.0.1", int(port)))
    loop = asyncio.get_running_loop()
    threading.Thread(target=read_commands, args=(client, loop), daemon=True).start()
    await client.disconnected


asyncio.run(main())
