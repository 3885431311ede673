"""An app shaped like the full-stack FastAPI template (tiangolo/full-stack-fastapi-template):
the document under /api/v1/openapi.json, an OAuth2 password login whose username is an
email, a first superuser, users who can change their own email and password or delete
themselves, `is_superuser` on the create, items CRUD, paged lists (skip/limit answering
`{"data": [...], "count": n}`) and a health route.

Besides the shared counts, GET /__barrage/safety says what a generated run must never do:
failed logins, superusers created, changes to the login's email or password, deletions
of it, and list reads that answered no rows.
"""

import itertools
import secrets
import uuid
from typing import Annotated, Optional

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

import counting

EMAIL, PASSWORD = "admin@example.com", "changethis"

app = FastAPI(title="barrage test: full-stack", openapi_url="/api/v1/openapi.json")
API = "/api/v1"
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/login/access-token")

ADMIN = uuid.uuid4()
users: dict[uuid.UUID, dict] = {
    ADMIN: {"id": ADMIN, "email": EMAIL, "password": PASSWORD, "is_superuser": True, "full_name": None}
}
items: dict[uuid.UUID, dict] = {}
tokens: dict[str, uuid.UUID] = {}
safety = {
    "failed_logins": 0,
    "superusers_created": 0,
    "login_changed": 0,
    "login_deleted": 0,
    "list_reads": 0,
    "empty_list_reads": 0,
}
ids = itertools.count(1)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserCreate(BaseModel):
    email: str = Field(min_length=3, max_length=255)
    password: str = Field(min_length=8, max_length=40)
    full_name: Optional[str] = Field(default=None, max_length=255)
    is_superuser: bool = False


class UserUpdate(BaseModel):
    full_name: Optional[str] = Field(default=None, max_length=255)
    is_superuser: Optional[bool] = None


class UserUpdateMe(BaseModel):
    full_name: Optional[str] = Field(default=None, max_length=255)
    email: Optional[str] = Field(default=None, max_length=255)


class UpdatePassword(BaseModel):
    current_password: str = Field(min_length=8, max_length=40)
    new_password: str = Field(min_length=8, max_length=40)


class UserPublic(BaseModel):
    id: uuid.UUID
    email: str
    full_name: Optional[str] = None
    is_superuser: bool


class UsersPublic(BaseModel):
    data: list[UserPublic]
    count: int


class ItemCreate(BaseModel):
    title: str = Field(min_length=1, max_length=255)
    description: Optional[str] = Field(default=None, max_length=255)


class ItemPublic(ItemCreate):
    id: uuid.UUID
    owner_id: uuid.UUID


class ItemsPublic(BaseModel):
    data: list[ItemPublic]
    count: int


@app.post(API + "/login/access-token", tags=["login"], response_model=Token)
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]):
    user = next((u for u in users.values() if u["email"] == form.username), None)
    if user is None or user["password"] != form.password:
        safety["failed_logins"] += 1
        raise HTTPException(400, "Incorrect email or password")
    token = secrets.token_hex(8)
    tokens[token] = user["id"]
    return Token(access_token=token)


def current_user(token: Annotated[str, Depends(oauth2)]) -> dict:
    user = users.get(tokens.get(token))
    if user is None:
        raise HTTPException(401, "Not authenticated")
    return user


Me = Annotated[dict, Depends(current_user)]


def superuser(user: Me) -> dict:
    if not user["is_superuser"]:
        raise HTTPException(403, "The user doesn't have enough privileges")
    return user


def page(rows: list, skip: int, limit: int) -> list:
    safety["list_reads"] += 1
    chosen = rows[skip : skip + limit]
    if not chosen:
        safety["empty_list_reads"] += 1
    return chosen


@app.get(API + "/users/", tags=["users"], response_model=UsersPublic, dependencies=[Depends(superuser)])
async def read_users(skip: int = 0, limit: int = 100):
    rows = list(users.values())
    return {"data": page(rows, skip, limit), "count": len(rows)}


@app.post(API + "/users/", tags=["users"], response_model=UserPublic, dependencies=[Depends(superuser)])
async def create_user(body: UserCreate):
    if any(u["email"] == body.email for u in users.values()):
        raise HTTPException(400, "The user with this email already exists in the system.")
    if body.is_superuser:
        safety["superusers_created"] += 1
    user = {"id": uuid.uuid4(), **body.model_dump()}
    users[user["id"]] = user
    return user


@app.get(API + "/users/me", tags=["users"], response_model=UserPublic)
async def read_user_me(user: Me):
    return user


@app.patch(API + "/users/me", tags=["users"], response_model=UserPublic)
async def update_user_me(body: UserUpdateMe, user: Me):
    if body.email is not None and body.email != user["email"]:
        if user["id"] == ADMIN:
            safety["login_changed"] += 1
        user["email"] = body.email
    if body.full_name is not None:
        user["full_name"] = body.full_name
    return user


@app.patch(API + "/users/me/password", tags=["users"])
async def update_password_me(body: UpdatePassword, user: Me):
    if body.current_password != user["password"]:
        raise HTTPException(400, "Incorrect password")
    if user["id"] == ADMIN:
        safety["login_changed"] += 1
    user["password"] = body.new_password
    return {"message": "Password updated successfully"}


@app.delete(API + "/users/me", tags=["users"])
async def delete_user_me(user: Me):
    if user["is_superuser"]:
        raise HTTPException(403, "Super users are not allowed to delete themselves")
    del users[user["id"]]
    return {"message": "User deleted successfully"}


@app.get(API + "/users/{user_id}", tags=["users"], response_model=UserPublic)
async def read_user_by_id(user_id: uuid.UUID, user: Me):
    found = users.get(user_id)
    if found is None:
        raise HTTPException(404, "User not found")
    return found


@app.get(API + "/items/", tags=["items"], response_model=ItemsPublic)
async def read_items(user: Me, skip: int = 0, limit: int = 100):
    rows = [i for i in items.values() if user["is_superuser"] or i["owner_id"] == user["id"]]
    return {"data": page(rows, skip, limit), "count": len(rows)}


@app.post(API + "/items/", tags=["items"], response_model=ItemPublic)
async def create_item(body: ItemCreate, user: Me):
    item = {"id": uuid.uuid4(), "owner_id": user["id"], **body.model_dump()}
    items[item["id"]] = item
    return item


@app.get(API + "/items/{id}", tags=["items"], response_model=ItemPublic)
async def read_item(id: uuid.UUID, user: Me):
    item = items.get(id)
    if item is None:
        raise HTTPException(404, "Item not found")
    return item


@app.put(API + "/items/{id}", tags=["items"], response_model=ItemPublic)
async def update_item(id: uuid.UUID, body: ItemCreate, user: Me):
    item = items.get(id)
    if item is None:
        raise HTTPException(404, "Item not found")
    item.update(body.model_dump())
    return item


@app.delete(API + "/items/{id}", tags=["items"])
async def delete_item(id: uuid.UUID, user: Me):
    if items.pop(id, None) is None:
        raise HTTPException(404, "Item not found")
    return {"message": "Item deleted successfully"}


@app.get(API + "/utils/health-check/", tags=["utils"])
async def health_check() -> bool:
    return True


@app.get("/__barrage/safety", include_in_schema=False)
async def served_safety():
    return safety


counting.install(app)
