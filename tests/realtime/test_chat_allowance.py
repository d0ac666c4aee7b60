"""The chat allowance is the person's, not the socket's: all their tabs share 5 messages in 5 seconds."""

from __future__ import annotations

from tests.support import Server


async def test_tabs_of_one_participant_share_the_chat_allowance(server: Server) -> None:
    """Three messages from one tab and two from another use up the allowance: the sixth, from either,
    answers `rate_limited`; another participant still sends."""
    session = await server.session()
    alice, bob = await server.participants(session["id"], 2)
    tab_a, tab_b = [await server.connect(alice["token"]) for _ in range(2)]
    other = await server.connect(bob["token"])
    for i, tab in enumerate([tab_a, tab_b, tab_a, tab_b, tab_a]):
        await tab.ok("chat:send", {"client_id": f"allowance-{i:03d}", "text": f"message {i}"})
    for tab in (tab_a, tab_b):
        await tab.refused("chat:send", {"client_id": "allowance-999", "text": "one too many"}, "rate_limited")
    assert (await other.ok("chat:send", {"client_id": "other-0001", "text": "mine"}))["seq"] == 6
