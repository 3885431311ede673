"""Streamed answers with known timing, for tests/streams.rs.

- GET /sse?first_ms=F&gap_ms=G&n=N: server-sent events (text/event-stream): waits F ms,
  then N `token` events G ms apart, then one `done` event G ms later.
- GET /chunks?first_ms=F&gap_ms=G&n=N: a plain StreamingResponse of N chunks, the first
  after F ms, then G ms apart.
- GET /__counts: how many streams each route started and how many events or chunks it sent.
"""

import asyncio
import json

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()
counts = {"sse_streams": 0, "sse_events": 0, "chunk_streams": 0, "chunks": 0}


@app.get("/sse")
async def sse(first_ms: int = 0, gap_ms: int = 0, n: int = 3):
    counts["sse_streams"] += 1

    async def events():
        await asyncio.sleep(first_ms / 1000)
        for i in range(n):
            if i:
                await asyncio.sleep(gap_ms / 1000)
            counts["sse_events"] += 1
            yield f"event: token\ndata: {json.dumps({'i': i, 'text': f't{i}'})}\n\n"
        await asyncio.sleep(gap_ms / 1000)
        counts["sse_events"] += 1
        # A comment and a block with only an id dispatch no event.
        yield ": keep-alive\n\nid: 9\n\n"
        yield f"event: done\ndata: {json.dumps({'finish': 'stop', 'n': n})}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


@app.get("/chunks")
async def chunks(first_ms: int = 0, gap_ms: int = 0, n: int = 3):
    counts["chunk_streams"] += 1

    async def body():
        await asyncio.sleep(first_ms / 1000)
        for i in range(n):
            if i:
                await asyncio.sleep(gap_ms / 1000)
            counts["chunks"] += 1
            yield f"chunk {i}\n".encode()

    return StreamingResponse(body(), media_type="text/plain")


@app.get("/__counts")
async def get_counts():
    return counts
