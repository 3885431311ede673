"""A FastAPI app backed by PostgreSQL through psycopg, for the PostgreSQL-monitoring test
(crates/barrage/tests/monitor_postgres.rs).

It holds a fixed pool of `PG_POOL` connections (4 by default), opened at import, so the
test knows how many connections the app keeps; `POST /orders` takes one, inserts a row
after a 10 ms `pg_sleep` (a statement with visible time in pg_stat_statements), and gives
it back. The connection string comes from `PG_DSN`.
"""

import os
import queue

import psycopg
from fastapi import FastAPI

DSN = os.environ["PG_DSN"]
POOL_SIZE = int(os.environ.get("PG_POOL", "4"))

with psycopg.connect(DSN, autocommit=True) as setup:
    setup.execute("CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, note text)")

pool: "queue.Queue[psycopg.Connection]" = queue.Queue()
for _ in range(POOL_SIZE):
    pool.put(psycopg.connect(DSN, autocommit=True))

app = FastAPI()


@app.get("/health")
def health():
    return {"ok": True}


@app.post("/orders")
def order():
    # A sync endpoint: FastAPI runs it on its thread pool, and the queue makes the threads
    # share the pool's connections.
    conn = pool.get()
    try:
        conn.execute("INSERT INTO orders (note) SELECT 'order' FROM pg_sleep(0.01)")
    finally:
        pool.put(conn)
    return {"ok": True}
