"""An independent Jabber client (slixmpp) for interop tests: discovers the gateway, registers
with a data form, writes to a contact and prints what comes back as JSON lines on stdout."""
import asyncio
import json
import sys

import slixmpp
from slixmpp.xmlstream import ET

# The last argument: the registration form's values as JSON, e.g. {"address": "..."}.
jid, password, port, gateway, contact, fields_json = sys.argv[1:7]
fields = json.loads(fields_json)


def report(**fields):
    print(json.dumps(fields), flush=True)


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        for plugin in ("xep_0004", "xep_0030", "xep_0199"):
            self.register_plugin(plugin)
        self["feature_mechanisms"].unencrypted_plain = True
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("presence_subscribe", self.on_subscribe)

    async def start(self, _event):
        await self.get_roster()
        self.send_presence()
        info = await self["xep_0030"].get_info(jid=gateway)
        identity = next(iter(info["disco_info"]["identities"]))
        report(step="disco", category=identity[0], type=identity[1], features=sorted(info["disco_info"]["features"]))

        iq = self.make_iq_set(ito=gateway)
        query = ET.Element("{jabber:iq:register}query")
        form = self["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value="jabber:iq:register")
        for name, value in fields.items():
            form.add_field(var=name, value=value)
        query.append(form.xml)
        iq.append(query)
        result = await iq.send(timeout=20)
        report(step="registered", type=result["type"])

        self.send_message(mto=contact, mbody="Hello from slixmpp", mtype="chat")
        report(step="sent")

    def on_subscribe(self, presence):
        # Accept the transport's subscription request, as a user would.
        self.send_presence(pto=presence["from"], ptype="subscribed")

    def on_message(self, message):
        if message["type"] in ("chat", "normal") and message["body"]:
            report(step="received", sender=str(message["from"].bare), body=message["body"])
            self.disconnect()


async def main():
    client = Client()
    client.connect(("127.0.0.1", int(port)), force_starttls=False, disable_starttls=True)
    try:
        await asyncio.wait_for(client.disconnected, timeout=20)
    except asyncio.TimeoutError:
        report(step="timeout")
        sys.exit(1)


asyncio.run(main())
