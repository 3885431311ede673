"""A shop API for barrage's OpenAPI tests: pydantic constraints, nested models, enums,
Optional and unions, discriminated unions, lists, a recursive model, path/query/header/
cookie parameters, and creates whose ids the reads, updates and deletes need; and
resources that are only listed, never created (pre-seeded warehouses, their bins as a
page, and docks whose list is always empty), whose ids a scenario must take from the
list.

Everything is kept in memory; a read of an id that was never created answers 404, so a
scenario whose ids do not flow from the create shows up as failures. A listed id is read
with a fallback (the list may be empty) whose 404 the scenario accepts, so there the run
result's 200s and 404s tell whether the id came from the list: the seeded ids are far
from anything generated.
"""

import itertools
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Literal, Optional, Union
from uuid import UUID

from fastapi import Cookie, FastAPI, Header, HTTPException, Path, Query
from pydantic import BaseModel, Field

import counting

app = FastAPI(title="barrage test: shop")


class Color(str, Enum):
    red = "red"
    green = "green"
    blue = "blue"


class Dimensions(BaseModel):
    width_cm: float = Field(gt=0, le=500)
    height_cm: float = Field(gt=0, le=500)
    depth_cm: Optional[float] = Field(default=None, ge=0, lt=1000)


class Tag(BaseModel):
    name: str = Field(min_length=2, max_length=12, pattern=r"^[a-z][a-z0-9-]*$")
    weight: int = Field(default=1, ge=1, le=5)


class ProductIn(BaseModel):
    name: str = Field(min_length=3, max_length=40)
    sku: str = Field(pattern=r"^[A-Z]{3}-\d{4}$")
    price: float = Field(gt=0, le=10_000, multiple_of=0.01)
    quantity: int = Field(ge=0, le=1000, multiple_of=5)
    color: Color
    dimensions: Dimensions
    tags: list[Tag] = Field(default_factory=list, max_length=5)
    codes: list[Annotated[int, Field(ge=100, le=999)]] = Field(min_length=2, max_length=4)
    released: date
    available_from: datetime
    contact: Optional[str] = Field(default=None, pattern=r"^\w+@example\.com$")
    barcode: Union[int, str]
    ref: Optional[UUID] = None


class Product(ProductIn):
    id: int


class Cat(BaseModel):
    kind: Literal["cat"]
    indoor: bool


class Dog(BaseModel):
    kind: Literal["dog"]
    good_boy: bool = True
    bark_db: int = Field(ge=10, le=120)


class Category(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    children: list["Category"] = Field(default_factory=list)
    parent: Optional["Category"] = None


class PetIn(BaseModel):
    name: str
    pet: Annotated[Union[Cat, Dog], Field(discriminator="kind")]
    category: Category


class Order(BaseModel):
    id: int
    product_id: int
    lines: int


class OrderIn(BaseModel):
    product_id: int = Field(ge=1)
    note: Optional[str] = Field(default=None, max_length=100)


class LineIn(BaseModel):
    quantity: int = Field(ge=1, le=10)


class Line(LineIn):
    id: int
    order_id: int


ids = itertools.count(1)
products: dict[int, Product] = {}
orders: dict[int, Order] = {}
lines: dict[int, Line] = {}


@app.post("/products/", status_code=201, response_model=Product, tags=["products"])
async def create_product(product: ProductIn):
    p = Product(id=next(ids), **product.model_dump())
    products[p.id] = p
    return p


@app.get("/products/", response_model=list[Product], tags=["products"])
async def list_products(
    color: Optional[Color] = None,
    min_price: Annotated[Optional[float], Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    tag: Annotated[Optional[list[str]], Query()] = None,
):
    return list(products.values())[:limit]


@app.get("/products/{product_id}", response_model=Product, tags=["products"])
async def read_product(product_id: Annotated[int, Path(ge=1)]):
    if product_id not in products:
        raise HTTPException(404, "no such product")
    return products[product_id]


@app.put("/products/{product_id}", response_model=Product, tags=["products"])
async def replace_product(product_id: int, product: ProductIn):
    if product_id not in products:
        raise HTTPException(404, "no such product")
    products[product_id] = Product(id=product_id, **product.model_dump())
    return products[product_id]


@app.delete("/products/{product_id}", status_code=204, tags=["products"])
async def delete_product(product_id: int):
    if products.pop(product_id, None) is None:
        raise HTTPException(404, "no such product")


@app.post("/orders", status_code=201, response_model=Order, tags=["orders"])
async def create_order(order: OrderIn):
    o = Order(id=next(ids), product_id=order.product_id, lines=0)
    orders[o.id] = o
    return o


@app.post("/orders/{order_id}/lines", status_code=201, response_model=Line, tags=["orders"])
async def add_line(order_id: int, line: LineIn):
    if order_id not in orders:
        raise HTTPException(404, "no such order")
    ln = Line(id=next(ids), order_id=order_id, quantity=line.quantity)
    lines[ln.id] = ln
    return ln


@app.get("/orders/{order_id}/lines/{line_id}", response_model=Line, tags=["orders"])
async def read_line(order_id: int, line_id: int):
    ln = lines.get(line_id)
    if ln is None or ln.order_id != order_id:
        raise HTTPException(404, "no such line")
    return ln


@app.post("/pets", tags=["pets"])
async def create_pet(pet: PetIn):
    return {"name": pet.name, "kind": pet.pet.kind}


@app.get("/regions/{region}/stores", tags=["stores"])
async def stores(
    region: Literal["north", "south", "east", "west"],
    x_request_id: Annotated[UUID, Header()],
    x_client: Annotated[str, Header(min_length=3, max_length=10)],
    session: Annotated[str, Cookie(min_length=8)],
    opened_after: Annotated[date, Query()],
    page: Annotated[int, Query(ge=1)] = 1,
):
    return {"region": region, "page": page}


@app.get("/stores/compare", tags=["stores"])
async def compare_stores(
    # A list in the query string (`?store=a&store=b`), at least two of them.
    store: Annotated[list[str], Query(min_length=2, max_length=4)],
):
    return {"compared": store}


@app.get("/users/{username}", tags=["stores"])
async def read_user(username: Annotated[str, Path(pattern=r"^[a-z]{3,10}$")]):
    # No create supplies a username: the scenario accepts 404 here.
    if username.startswith("z"):
        raise HTTPException(404, "no such user")
    return {"username": username}


class Warehouse(BaseModel):
    id: int
    city: str


class Bin(BaseModel):
    bin_id: str
    capacity: int


class BinPage(BaseModel):
    items: list[Bin]
    total: int


class Dock(BaseModel):
    id: int


# Seeded, never created through the API: ids from 70001 up, and bin ids with a dash, so
# no value generated for a plain `int` or `str` parameter names one by chance.
warehouses = {
    70001 + i: Warehouse(id=70001 + i, city=city) for i, city in enumerate(["Lyon", "Oslo", "Quito"])
}
bins = {
    w: [Bin(bin_id=f"B-{w}-{n}", capacity=10 * n) for n in range(1, 4)] for w in warehouses
}


@app.get("/warehouses", response_model=list[Warehouse], tags=["stock"])
async def list_warehouses():
    return list(warehouses.values())


@app.get("/warehouses/{warehouse_id}", response_model=Warehouse, tags=["stock"])
async def read_warehouse(warehouse_id: int):
    if warehouse_id not in warehouses:
        raise HTTPException(404, "no such warehouse")
    return warehouses[warehouse_id]


@app.get("/warehouses/{warehouse_id}/bins", response_model=BinPage, tags=["stock"])
async def list_bins(warehouse_id: int):
    if warehouse_id not in warehouses:
        raise HTTPException(404, "no such warehouse")
    return BinPage(items=bins[warehouse_id], total=len(bins[warehouse_id]))


@app.get("/warehouses/{warehouse_id}/bins/{bin_id}", response_model=Bin, tags=["stock"])
async def read_bin(warehouse_id: int, bin_id: str):
    for b in bins.get(warehouse_id, []):
        if b.bin_id == bin_id:
            return b
    raise HTTPException(404, "no such bin")


@app.get("/docks", response_model=list[Dock], tags=["stock"])
async def list_docks():
    # Always empty: the scenario reads a dock with its default id, which must be valid
    # for the parameter (a 422 fails the test) and answers 404 (which it accepts).
    return []


@app.get("/docks/{dock_id}", response_model=Dock, tags=["stock"])
async def read_dock(dock_id: Annotated[int, Path(ge=100, le=999)]):
    raise HTTPException(404, "no such dock")


@app.get("/legacy", deprecated=True, tags=["stores"])
async def legacy():
    return {"old": True}


counting.install(app)
