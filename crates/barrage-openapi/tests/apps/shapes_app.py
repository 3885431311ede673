"""Shapes of newer FastAPI apps that `barrage init` must generate valid requests for:
a Pydantic form model with an optional nested model (a form schema whose property is an
`anyOf` around an object), a discriminated union as a form body (`oneOf` with a mapping),
a map with integer keys (`dict[int, float]`, published with no key type), a header model
that lists `host`, and optional query parameters whose validation the document cannot
show (a validator rejects what the schema allows).

Every 422 is recorded by `counting`; GET /__barrage/hosts lists the Host headers seen
(they must all be the real one).
"""

from typing import Annotated, Literal, Optional, Union

from fastapi import FastAPI, Form, Header, Query, Request
from pydantic import AfterValidator, BaseModel, Field

import counting

app = FastAPI(title="barrage test: newer FastAPI shapes")
hosts: set[str] = set()


class Address(BaseModel):
    city: str


class Profile(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    nickname: Optional[str] = None
    address: Optional[Address] = None


@app.post("/profile", tags=["shapes"])
async def profile(data: Annotated[Profile, Form()]):
    return data


class Cat(BaseModel):
    kind: Literal["cat"]
    meows: int = Field(ge=0, le=10)


class Dog(BaseModel):
    kind: Literal["dog"]
    barks: bool


@app.post("/pet", tags=["shapes"])
async def pet(data: Annotated[Union[Cat, Dog], Field(discriminator="kind"), Form()]):
    return data


@app.post("/scores", tags=["shapes"])
async def scores(data: dict[int, float]):
    return data


class Headers(BaseModel):
    host: str
    x_trace: Optional[str] = None


@app.get("/headers", tags=["shapes"])
async def headers(h: Annotated[Headers, Header()], request: Request):
    hosts.add(request.headers["host"])
    return {"host": h.host}


def even(v: Optional[int]) -> Optional[int]:
    if v is not None and v % 2:
        raise ValueError("must be even")
    return v


@app.get("/search", tags=["shapes"])
async def search(
    q: Optional[str] = None,
    n: Annotated[Optional[int], AfterValidator(even)] = None,
    sort: Annotated[Literal["asc", "desc"], Query()] = "asc",
    skip: int = 0,
    limit: int = 10,
):
    return {"q": q, "n": n, "sort": sort}


@app.get("/__barrage/hosts", include_in_schema=False)
async def served_hosts():
    return sorted(hosts)


counting.install(app)
