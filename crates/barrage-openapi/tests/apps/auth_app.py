"""An API with every kind of credential and body barrage generates for: FastAPI's OAuth2
password flow, API keys in a header, a query parameter and a cookie, HTTP basic, HTML
forms, and file uploads (one file, several files, with form fields).

The credentials are fixed here; the end-to-end test passes them to barrage through the
environment variables the generated scenario names.
"""

import itertools
import secrets
from typing import Annotated, Optional

from fastapi import Depends, FastAPI, File, Form, HTTPException, Security, UploadFile
from fastapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPBasic,
    HTTPBasicCredentials,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
)
from pydantic import BaseModel, Field

import counting

USER, PASSWORD, API_KEY = "alice", "wonderland", "k-123"

app = FastAPI(title="barrage test: auth")
oauth2 = OAuth2PasswordBearer(tokenUrl="token")
header_key = APIKeyHeader(name="X-API-Key")
query_key = APIKeyQuery(name="api_key")
cookie_key = APIKeyCookie(name="session_key")
basic = HTTPBasic()
tokens: set[str] = set()
ids = itertools.count(1)
notes: dict[int, dict] = {}


@app.post("/token", tags=["auth"])
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]):
    if (form.username, form.password) != (USER, PASSWORD):
        raise HTTPException(400, "Incorrect username or password")
    token = secrets.token_hex(8)
    tokens.add(token)
    return {"access_token": token, "token_type": "bearer"}


def current_user(token: Annotated[str, Depends(oauth2)]) -> str:
    if token not in tokens:
        raise HTTPException(401, "bad token", headers={"WWW-Authenticate": "Bearer"})
    return USER


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=200)
    pinned: bool = False


class Note(NoteIn):
    id: int
    owner: str


@app.post("/notes", status_code=201, response_model=Note, tags=["notes"])
async def create_note(note: NoteIn, user: Annotated[str, Depends(current_user)]):
    n = Note(id=next(ids), owner=user, **note.model_dump())
    notes[n.id] = n.model_dump()
    return n


@app.get("/notes/{note_id}", response_model=Note, tags=["notes"])
async def read_note(note_id: int, user: Annotated[str, Depends(current_user)]):
    if note_id not in notes:
        raise HTTPException(404, "no such note")
    return notes[note_id]


@app.get("/me", tags=["notes"])
async def me(user: Annotated[str, Depends(current_user)]):
    return {"user": user}


def key_is(expected: str, given: str) -> None:
    if given != expected:
        raise HTTPException(403, "wrong key")


@app.get("/keys/header", tags=["keys"])
async def by_header(key: Annotated[str, Security(header_key)]):
    key_is(API_KEY, key)
    return {"ok": True}


@app.get("/keys/query", tags=["keys"])
async def by_query(key: Annotated[str, Security(query_key)]):
    key_is(API_KEY, key)
    return {"ok": True}


@app.get("/keys/cookie", tags=["keys"])
async def by_cookie(key: Annotated[str, Security(cookie_key)]):
    key_is(API_KEY, key)
    return {"ok": True}


@app.get("/basic", tags=["keys"])
async def by_basic(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]):
    if (credentials.username, credentials.password) != (USER, PASSWORD):
        raise HTTPException(401, "bad credentials", headers={"WWW-Authenticate": "Basic"})
    return {"user": credentials.username}


@app.post("/signup", tags=["forms"])
async def signup(
    name: Annotated[str, Form(min_length=2, max_length=30)],
    age: Annotated[int, Form(ge=18, le=120)],
    newsletter: Annotated[bool, Form()] = False,
    plan: Annotated[Optional[str], Form(pattern="^(free|pro)$")] = None,
):
    return {"name": name, "age": age}


@app.post("/upload", tags=["files"])
async def upload(file: UploadFile, description: Annotated[str, Form(min_length=3)]):
    content = await file.read()
    if not file.filename or not content:
        raise HTTPException(400, "empty upload")
    return {"filename": file.filename, "size": len(content), "description": description}


@app.post("/upload/many", tags=["files"])
async def upload_many(files: Annotated[list[UploadFile], File()], album: Annotated[str, Form()]):
    sizes = [len(await f.read()) for f in files]
    if not all(sizes):
        raise HTTPException(400, "empty upload")
    return {"count": len(files), "album": album}


counting.install(app)
