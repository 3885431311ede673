"""An app that repeats what it is sent, as careless servers do, for the test that no
secret barrage sent reaches its files (crates/barrage/tests/redact.rs):

POST /login   JSON {email, password}: the right pair answers a fixed access token; a wrong
              one answers 400 {"detail": "Incorrect email or password"}, as FastAPI's
              full-stack template does.
POST /echo    answers 400 with every header and the body it was sent, under `detail`.
POST /items   a model that requires `name`: anything else is FastAPI's own 422, which
              repeats the body it was sent (`input`).
GET /session  a secret of the server's own, in a header (`x-session-token`) and a field
              (`access_token`), for checks that fail on them.
"""

from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel

EMAIL, PASSWORD = "alice@example.com", "pw-login-Secret-1"
# What setup saves: the test looks for it in every output.
ACCESS_TOKEN = "tok-setup-Secret-2"

app = FastAPI(title="barrage test: echo")


class Login(BaseModel):
    email: str
    password: str


@app.post("/login")
async def login(body: Login):
    if (body.email, body.password) != (EMAIL, PASSWORD):
        raise HTTPException(400, "Incorrect email or password")
    return {"access_token": ACCESS_TOKEN, "token_type": "bearer"}


@app.post("/echo")
async def echo(request: Request):
    body = (await request.body()).decode("utf-8", "replace")
    raise HTTPException(400, {"headers": dict(request.headers), "body": body})


class Item(BaseModel):
    name: str
    price: float


@app.post("/items")
async def create_item(item: Item):
    return item


@app.get("/session")
async def session(response: Response):
    response.headers["x-session-token"] = "srv-Secret-11"
    return {"access_token": "srv-Secret-12"}
