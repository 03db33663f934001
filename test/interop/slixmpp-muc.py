"""An independent Jabber client (slixmpp) in a group chat the gateway hosts. It plays one scenario and
prints what it saw as JSON lines on stdout:

- invitation JID PASSWORD PORT: takes the invitation the server kept while it was offline, joins the
  room, writes to it and reads its archive (MAM);
- changes JID PASSWORD PORT ROOM INVITEE: in a room, sets the subject (XEP-0045 §8.1), invites a
  contact (§7.8.2), reads one occupant's messages from the archive (XEP-0313 `with`) and writes."""
import asyncio
import json
import sys

import slixmpp

scenario, jid, password, port = sys.argv[1:5]
extra = sys.argv[5:]


def report(**fields):
    print(json.dumps(fields), flush=True)


def archived_bodies(archive):
    return [body.text for result in archive["mam"]["results"] for body in result.xml.iter("{jabber:client}body")]


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
        await {"invitation": self.invitation, "changes": self.changes}[scenario](*extra)
        self.disconnect()

    async def invitation(self):
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
        report(step="mam", bodies=archived_bodies(archive))

    async def changes(self, room, invitee):
        await self["xep_0045"].join_muc_wait(room, "Jules", maxstanzas=0, timeout=15)
        loop = asyncio.get_event_loop()
        subject = loop.create_future()
        self.add_event_handler("groupchat_subject", lambda message: subject.done() or subject.set_result(message))
        self["xep_0045"].set_subject(room, "Tea on Friday")
        told = await asyncio.wait_for(subject, timeout=15)
        report(step="subject", subject=told["subject"], nick=told["from"].resource)

        # The owner's configuration form, as Gajim's dialog asks for it, sent back unchanged.
        form = await self["xep_0045"].get_room_config(room)
        values = form.get_values()
        await self["xep_0045"].set_room_config(room, form)
        report(step="config", name=values.get("muc#roomconfig_roomname"), membersonly=values.get("muc#roomconfig_membersonly"))

        online = loop.create_future()
        self.add_event_handler("muc::%s::got_online" % room, lambda presence: online.done() or online.set_result(presence))
        self["xep_0045"].invite(room, invitee, "Join us")
        presence = await asyncio.wait_for(online, timeout=15)
        report(step="invited", nick=presence["from"].resource, jid=str(presence["muc"]["jid"]))

        archive = await self["xep_0313"].retrieve(jid=room, with_jid=slixmpp.JID(room + "/Romeo Montague"), rsm={"max": 10}, timeout=15)
        report(step="mam", bodies=archived_bodies(archive))

        self.send_message(mto=room, mbody="Tea it is, cousin.", mtype="groupchat")
        await asyncio.sleep(1)


async def main():
    client = Client()
    client.connect(("127.0.0.1", int(port)), force_starttls=False, disable_starttls=True)
    try:
        await asyncio.wait_for(client.disconnected, timeout=60)
    except asyncio.TimeoutError:
        report(step="timeout")
        sys.exit(1)


asyncio.run(main())
