"""An independent Jabber client (slixmpp) as a service administrator: finds the XEP-0133 commands on
the gateway's JID, reads the number and list of registered users, edits a user's settings and
sends an announcement.
Prints what it saw as JSON lines on stdout."""
import asyncio
import json
import sys

import slixmpp
from slixmpp.xmlstream import ET

jid, password, port, gateway = sys.argv[1:5]
COMMANDS = "http://jabber.org/protocol/commands"
ADMIN = "http://jabber.org/protocol/admin"
DATA = "jabber:x:data"


def report(**fields):
    print(json.dumps(fields), flush=True)


def values(form, name):
    for field in form.findall("{%s}field" % DATA):
        if field.get("var") == name:
            return [value.text or "" for value in field.findall("{%s}value" % DATA)]
    return []


class Admin(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        for plugin in ("xep_0004", "xep_0030", "xep_0050"):
            self.register_plugin(plugin)
        self["feature_mechanisms"].unencrypted_plain = True
        self.add_event_handler("session_start", self.start)

    async def command(self, node, sessionid=None, submit=None):
        iq = self.make_iq_set(ito=gateway)
        command = ET.Element("{%s}command" % COMMANDS, node=node, action="complete" if submit is not None else "execute")
        if sessionid:
            command.set("sessionid", sessionid)
        if submit is not None:
            form = self["xep_0004"].make_form(ftype="submit")
            form.add_field(var="FORM_TYPE", ftype="hidden", value=ADMIN)
            for name, (kind, value) in submit.items():
                form.add_field(var=name, ftype=kind, value=value)
            command.append(form.xml)
        iq.append(command)
        result = await iq.send(timeout=20)
        return result.xml.find("{%s}command" % COMMANDS)

    async def start(self, _event):
        try:
            items = await self["xep_0030"].get_items(jid=gateway, node=COMMANDS)
            report(step="commands", nodes=sorted(item[1] for item in items["disco_items"]["items"] if item[1].startswith(ADMIN)))

            num = await self.command(ADMIN + "#get-registered-users-num")
            report(step="num", status=num.get("status"), value=values(num.find("{%s}x" % DATA), "registeredusersnum"))

            first = await self.command(ADMIN + "#get-registered-users-list")
            listed = await self.command(ADMIN + "#get-registered-users-list", first.get("sessionid"), {"max_items": ("list-single", "none")})
            report(step="list", status=listed.get("status"), jids=values(listed.find("{%s}x" % DATA), "registereduserjids"))

            first = await self.command(ADMIN + "#edit-user")
            form = await self.command(ADMIN + "#edit-user", first.get("sessionid"), {"accountjid": ("jid-single", "juliet@example.test")})
            shown = form.find("{%s}x" % DATA)
            names = [field.get("var") for field in shown.findall("{%s}field" % DATA) if field.get("var") != "FORM_TYPE"]
            done = await self.command(ADMIN + "#edit-user", form.get("sessionid"), {"color": ("list-single", "red")})
            report(step="edit", fields=names, color=values(shown, "color"), status=done.get("status"), note=done.findtext("{%s}note" % COMMANDS))

            first = await self.command(ADMIN + "#announce")
            done = await self.command(ADMIN + "#announce", first.get("sessionid"), {"subject": ("text-single", "From slixmpp"), "announcement": ("text-multi", ["Line one", "Line two"])})
            report(step="announce", status=done.get("status"), note=done.findtext("{%s}note" % COMMANDS))
        except Exception as error:  # noqa: BLE001 - any failure is reported to the test
            report(step="error", error=repr(error))
        self.disconnect()


async def main():
    client = Admin()
    client.connect(("127.0.0.1", int(port)), force_starttls=False, disable_starttls=True)
    try:
        await asyncio.wait_for(client.disconnected, timeout=30)
    except asyncio.TimeoutError:
        report(step="timeout")
        sys.exit(1)


asyncio.run(main())
