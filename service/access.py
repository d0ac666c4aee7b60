"""Who may come in: API tokens, participant links, and closing the sockets of access that ended."""

from __future__ import annotations

from typing import Any

from core.bounds import is_id
from core.errors import Forbidden, Invalid, NotFound, Unauthorized
from core.model import Actor, Member, SessionState, room_person, room_token
from persistence import identity
from persistence.identity import parse_participant_token, participant_actor, participant_token
from persistence.repos import staff
from persistence.repos.staff import Disabled
from service.unit import Unit


class Access:
    def __init__(self, unit: Unit, *, secret_key: str, public_url: str) -> None:
        self._u = unit
        self._key = secret_key
        self._public_url = public_url

    # ------------------------------------------------------------ who is calling

    async def bearer(self, token: str) -> Actor:
        """The actor behind an API or participant token, or Unauthorized saying why.

        A participant's signed token is checked against the live roster (memory or Redis), as a socket's
        is: a class of 2,000 opening their tabs at once must not cost a database read each.
        """
        if parse_participant_token(token, self._key) is not None:
            return await self.socket_actor(token)
        return await self._u.read(identity.resolve, token=token, key=self._key)

    async def socket_actor(self, token: str) -> Actor:
        """The actor behind a handshake's token: a signed participant token needs no query when its session is live."""
        participant = parse_participant_token(token, self._key)
        if participant is None:
            return await self.bearer(token)
        session_id, participant_id = participant
        try:
            await self._u.ensure_loaded(session_id)
        except NotFound:
            raise Unauthorized("unknown token: its session no longer exists") from None
        member = await self._u.store.member(session_id, participant_id)
        if member is None:
            raise Unauthorized("unknown token: that participant is no longer on a roster")
        return participant_actor(session_id, member)

    async def session_for(self, actor: Actor, requested: Any) -> SessionState:
        """The session a socket joins: a participant's own; the one staff name, if they may act in it."""
        if requested is not None and not isinstance(requested, str):
            raise Invalid("session: must be a string")
        if actor.role == "participant":
            if requested and requested != actor.session_id:
                raise Forbidden("this token belongs to another session")
            session_id = actor.session_id
        else:
            if not requested:
                raise Invalid("missing session: staff connect with auth {token, session}")
            if not is_id(requested):
                raise NotFound("unknown session")  # no session has such an id; the database is not asked
            session_id = requested
        assert session_id is not None
        try:
            state = await self._u.ensure_loaded(session_id)
        except NotFound:
            raise NotFound("unknown session") from None
        if not actor.may_act_in(state):
            raise Forbidden("this token may not act in that session")
        return state

    async def session_of(self, actor: Actor, session_id: str) -> SessionState:
        """A session this actor may act in (an HTTP path names it)."""
        state = await self._u.ensure_loaded(session_id)
        if not actor.may_act_in(state):
            raise Forbidden("you may not act in this session")
        return state

    # ------------------------------------------------------------ tokens and links

    async def create_token(self, *, role: str, name: str, email: str | None) -> tuple[str, str]:
        """A new API token (id, token); the token is shown once, only its digest is kept."""
        now = self._u.now()
        result: tuple[str, str] = await self._u.submit(
            lambda db: identity.create_staff_token(db, role=role, name=name, email=email, now=now)
        )
        return result

    async def revoke_token(self, token_id: str) -> bool:
        """Revoke a token; its sockets close at once, in every process. False: there is no such token."""
        now = self._u.now()
        found: bool = await self._u.submit(lambda db: staff.revoke_token(db, token_id=token_id, now=now))
        if found:
            await self.disconnect_token(token_id)
        return found

    async def disconnect_token(self, token_id: str) -> None:
        """Close every socket opened with this token (a staff web session ended, a token revoked)."""
        await self._u.publisher.disconnect(room_token(token_id))

    def participant_link(self, session_id: str, member: Member) -> dict[str, Any]:
        """A participant's personal link and token (the same each time: derived from the server key)."""
        token = participant_token(self._key, session_id, member.id)
        return {
            "id": member.id,
            "name": member.name,
            "email": member.email,
            "join_url": f"{self._public_url}/join/{session_id}#token={token}",
            "token": token,
        }

    # ------------------------------------------------------------ staff members

    async def disable_staff(self, email: str) -> Disabled | None:
        """Disable a staff member: their web sessions and tokens end, and their sockets close everywhere."""
        now = self._u.now()
        done: Disabled | None = await self._u.submit(lambda db: staff.disable_staff(db, email=email, now=now))
        if done is not None:
            await self._u.publisher.disconnect(room_person(email))
        return done
