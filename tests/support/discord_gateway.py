"""A tiny fake of Discord's REST API and gateway on 127.0.0.1, for what simcord cannot show.

simcord logs the bot in itself, so the adapter's own start-up (login, connect, wait for READY)
and its answers to a refused token or a missing privileged intent are tested against this
instead: discord.py's real HTTP client and websocket talk to it, pointed here by its two
network constants (``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``).
"""

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import discord
import pytest
import yarl
from aiohttp import WSMsgType, web

TOKEN = "good-token"
APPLICATION_ID = "700000000000000001"
BOT_USER = {"id": APPLICATION_ID, "username": "dialogue", "discriminator": "0", "avatar": None}
MESSAGE_CONTENT = 1 << 15
HELLO, IDENTIFY, DISPATCH = 10, 2, 0
DISALLOWED_INTENTS = 4014


def _json(data: object, status: int = 200) -> web.Response:
    # Exactly Discord's content type: discord.py decodes JSON only when it matches.
    body = json.dumps(data).encode("utf-8")
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


@dataclass
class FakeDiscord:
    """What the fake saw: REST calls, and the intents each IDENTIFY asked for."""

    message_content_enabled: bool = True
    calls: list[str] = field(default_factory=list)
    identified: list[int] = field(default_factory=list)
    synced: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/v10/{path:.*}", self.rest)
        app.router.add_get("/gateway", self.gateway)
        return app

    async def rest(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        self.calls.append(f"{request.method} /{path}")
        if request.headers.get("Authorization") != f"Bot {TOKEN}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        if path == "users/@me":
            return _json(BOT_USER)
        if path == "oauth2/applications/@me":
            return _json(
                {
                    "id": APPLICATION_ID, "name": "dialogue", "description": "", "icon": None,
                    "bot_public": False, "bot_require_code_grant": False, "owner": BOT_USER,
                    "verify_key": "0" * 64, "flags": 0,
                }
            )  # fmt: skip
        if path.startswith(f"applications/{APPLICATION_ID}/") and path.endswith("commands"):
            self.synced = [command["name"] for command in await request.json()]
            return _json([])
        return _json({"message": f"not faked: {path}", "code": 0}, status=404)

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(json.dumps({"op": HELLO, "d": {"heartbeat_interval": 45000}}))
        async for message in socket:
            if message.type is not WSMsgType.TEXT:
                break
            payload = json.loads(message.data)
            if payload["op"] != IDENTIFY:
                continue
            intents = int(payload["d"]["intents"])
            self.identified.append(intents)
            if intents & MESSAGE_CONTENT and not self.message_content_enabled:
                await socket.close(code=DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
                break
            ready = {
                "v": 10, "user": BOT_USER, "guilds": [], "session_id": "s",
                "resume_gateway_url": str(request.url), "application": {
                    "id": APPLICATION_ID, "flags": 0,
                },
            }  # fmt: skip
            await socket.send_str(json.dumps({"op": DISPATCH, "t": "READY", "s": 1, "d": ready}))
        return socket


async def _serve(fake: FakeDiscord) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def _point_discord_py_at(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    gateway = yarl.URL(f"ws://127.0.0.1:{port}/gateway")
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", gateway)


@asynccontextmanager
async def fake_discord(
    monkeypatch: pytest.MonkeyPatch, message_content_enabled: bool = True
) -> AsyncIterator[FakeDiscord]:
    """Serve a fake Discord on a free loopback port and point discord.py at it."""
    fake = FakeDiscord(message_content_enabled)
    runner, port = await _serve(fake)
    _point_discord_py_at(monkeypatch, port)
    try:
        yield fake
    finally:
        await runner.cleanup()


@contextmanager
def fake_discord_in_thread(
    monkeypatch: pytest.MonkeyPatch, message_content_enabled: bool = True
) -> Iterator[FakeDiscord]:
    """The same fake in a thread of its own, for code that runs its own event loop."""
    fake = FakeDiscord(message_content_enabled)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner, port = asyncio.run_coroutine_threadsafe(_serve(fake), loop).result(timeout=10)
    _point_discord_py_at(monkeypatch, port)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
