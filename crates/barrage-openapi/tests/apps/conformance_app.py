"""Routes that break their own OpenAPI document, for `barrage init --check-responses`.

Each documents a `Thing` (required `id: int` and `name: str`) for status 200, and some
answer otherwise through a raw `JSONResponse`, which FastAPI sends without validating:
a body missing a required field, a field of the wrong type, an undocumented status. One
route conforms, so the test can tell that only the broken ones fail.
"""

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import counting

app = FastAPI(title="barrage test: conformance")


class Thing(BaseModel):
    id: int
    name: str
    tags: list[str] = []


@app.get("/good", response_model=Thing)
async def good():
    return Thing(id=1, name="fine", tags=["a"])


@app.get("/missing-field", response_model=Thing)
async def missing_field():
    return JSONResponse({"id": 2, "tags": []})


@app.get("/wrong-type", response_model=Thing)
async def wrong_type():
    return JSONResponse({"id": "three", "name": "x", "tags": [3]})


@app.get("/undocumented-status", response_model=Thing)
async def undocumented_status():
    return JSONResponse({"id": 4, "name": "teapot"}, status_code=203)


counting.install(app)
