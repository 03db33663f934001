"""An independent Jabber client (slixmpp) in a group chat the gateway hosts: takes the invitation
the server kept while it was offline, joins the room, writes to it, reads its archive (MAM), and
prints what it saw as JSON lines on stdout."""
import asyncio
import json
import sys

import slixmpp

jid, password, port = sys.argv[1:4]


def report(**fields):
    print(json.dumps(fields), flush=True)


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        for plugin in ("xep_0030", "xep_0045", "xep_0059", "xep_0249", "xep_0313", "xep_0359"):
            self.register_plugin(plugin)
        self["feature_mechanisms"].unencrypted_plain = True
        self.invited = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("groupchat_direct_invite", self.on_invite)

    def on_invite(self, message):
        if not self.invited.done():
            self.invited.set_result(message)

    async def start(self, _event):
        await self.get_roster()
        self.send_presence()
        invite = await asyncio.wait_for(self.invited, timeout=15)
        room = invite["groupchat_invite"]["jid"]
        report(step="invited", room=str(room), reason=invite["groupchat_invite"]["reason"])

        info = await self["xep_0030"].get_info(jid=room)
        report(step="disco", features=sorted(info["disco_info"]["features"]))

        presence, subject, occupants, history = await self["xep_0045"].join_muc_wait(room, "Jules", maxstanzas=10, timeout=15)
        report(
            step="joined",
            nick=presence["from"].resource,
            codes=sorted(int(code) for code in presence["muc"]["status_codes"]),
            affiliation=presence["muc"]["affiliation"],
            occupants=sorted(occupant["from"].resource for occupant in occupants),
            subject=subject["subject"],
            history=[message["body"] for message in history],
        )

        echoed = asyncio.get_event_loop().create_future()

        def on_groupchat(message):
            if message["body"] == "Hello all, from slixmpp" and not echoed.done():
                echoed.set_result(message)

        self.add_event_handler("groupchat_message", on_groupchat)
        message = self.make_message(mto=room, mbody="Hello all, from slixmpp", mtype="groupchat")
        message["id"] = "slix-room-1"
        message.send()
        echo = await asyncio.wait_for(echoed, timeout=15)
        report(step="echo", id=echo["id"], nick=echo["from"].resource)

        archive = await self["xep_0313"].retrieve(jid=room, rsm={"max": 10}, timeout=15)
        bodies = [body.text for result in archive["mam"]["results"] for body in result.xml.iter("{jabber:client}body")]
        report(step="mam", bodies=bodies)
        self.disconnect()


async def main():
    client = Client()
    client.connect(("127.0.0.1", int(port)), force_starttls=False, disable_starttls=True)
    try:
        await asyncio.wait_for(client.disconnected, timeout=60)
    except asyncio.TimeoutError:
        report(step="timeout")
        sys.exit(1)


asyncio.run(main())
