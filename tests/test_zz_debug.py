from tests.fakes import Chatroom, registered
from tests.test_organisers import organiser

async def test_dbg(room: Chatroom, core) -> None:
    await organiser(room, "orga", "de")
    p = await registered(room, "samira", "en")
    await p.says("/interpreter_register")
    print("1>", p.text, [b.data for b in p.buttons()])
    await p.taps("Kültür Kollektiv Leipzig e. V.")
    print("2>", p.text, [b.data for b in p.buttons()])
    await p.presses("ir:l:ar")
    print("3>", p.text, [b.data for b in p.buttons()])
    assert 0
