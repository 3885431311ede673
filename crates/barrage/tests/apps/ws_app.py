"""WebSocket routes for barrage's tests (crates/barrage/tests/websocket.rs), counting what
they send and receive per user so a test can hold barrage's counts to the server's.

- /ws/echo?user=U&delay=MS: answers each text message with the same text after MS ms.
- /ws/push?user=U&n=N: after the first message, pushes N JSON messages
  ({"i": 0..N-1, "last": bool}), then waits for the client to close.
- /ws/close?user=U: after the first message, closes the socket (code 1000).
- /ws/silent?user=U: reads messages and never answers.
- GET /counts: {route: {user: {"sockets", "received", "sent"}}}.
"""

import asyncio
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()
counts = defaultdict(lambda: defaultdict(lambda: {"sockets": 0, "received": 0, "sent": 0}))


def tally(route: str, user: str) -> dict:
    return counts[route][user]


@app.get("/counts")
def get_counts():
    return counts


@app.websocket("/ws/echo")
async def echo(ws: WebSocket, user: str = "?", delay: float = 0.0):
    await ws.accept()
    t = tally("echo", user)
    t["sockets"] += 1
    try:
        while True:
            text = await ws.receive_text()
            t["received"] += 1
            if delay:
                await asyncio.sleep(delay / 1000)
            await ws.send_text(text)
            t["sent"] += 1
    except WebSocketDisconnect:
        pass


@app.websocket("/ws/push")
async def push(ws: WebSocket, user: str = "?", n: int = 1):
    await ws.accept()
    t = tally("push", user)
    t["sockets"] += 1
    try:
        await ws.receive_text()
        t["received"] += 1
        for i in range(n):
            await ws.send_json({"i": i, "last": i == n - 1})
            t["sent"] += 1
        while True:
            await ws.receive_text()
            t["received"] += 1
    except WebSocketDisconnect:
        pass


@app.websocket("/ws/close")
async def close(ws: WebSocket, user: str = "?"):
    await ws.accept()
    t = tally("close", user)
    t["sockets"] += 1
    try:
        await ws.receive_text()
        t["received"] += 1
        await ws.close(code=1000, reason="done here")
    except WebSocketDisconnect:
        pass


@app.websocket("/ws/silent")
async def silent(ws: WebSocket, user: str = "?"):
    await ws.accept()
    t = tally("silent", user)
    t["sockets"] += 1
    try:
        while True:
            await ws.receive_text()
            t["received"] += 1
    except WebSocketDisconnect:
        pass
