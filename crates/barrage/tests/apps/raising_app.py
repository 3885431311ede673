"""A FastAPI app whose POST /boom raises an unhandled exception beside a plain GET /ok.

uvicorn answers the exception with a 500 and closes the kept-alive connection without a
`connection: close` header, so a client that sent its next request on that connection
meets a closed connection before a byte of the answer: what the reused-connection retry
is for (tests/http_reliability.rs).
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/ok")
def ok():
    return {"ok": True}


@app.post("/boom")
def boom():
    raise RuntimeError("boom")
