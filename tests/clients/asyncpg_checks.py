"""asyncpg against a live `hiveql serve`. asyncpg sends every statement
with the extended protocol, names no parameter types (it asks the server
which to send, then sends binary values of those types) and reads every
result in binary. Run by tests/tests/serve.rs as
`python asyncpg_checks.py HOST PORT USER PASSWORD CHECK...`; each check
prints `ok NAME` or raises (a non-zero exit fails the Rust test).
"""

import asyncio
import datetime
import decimal
import os
import sys
import tempfile
import time

import asyncpg

HOST, PORT, USER, PASSWORD = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


async def connect():
    return await asyncpg.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, database="default")


async def check_parameter_types():
    """The server describes each `$n` as the type its use implies."""
    c = await connect()
    try:
        await c.execute("DROP TABLE IF EXISTS apg")
        await c.execute(
            "CREATE TABLE apg (id INT, big BIGINT, name STRING, price DOUBLE, d DATE, "
            "amt DECIMAL(10,2), ok BOOLEAN, ts TIMESTAMP, small SMALLINT)"
        )
        st = await c.prepare(
            "SELECT id FROM apg WHERE id = $1 AND big > $2 AND name = $3 AND price < $4 AND d = $5 "
            "AND amt = $6 AND ok = $7 AND ts = $8 AND small = $9"
        )
        names = [t.name for t in st.get_parameters()]
        assert names == ["int4", "int8", "text", "float8", "date", "numeric", "bool", "timestamp", "int2"], names
        st = await c.prepare("SELECT $1 + 1, CAST($2 AS DATE), $3 BETWEEN 1 AND id, name LIKE $4 FROM apg")
        names = [t.name for t in st.get_parameters()]
        assert names == ["int8", "date", "int4", "text"], names
        # the values of INSERT ... VALUES take their columns' types
        st = await c.prepare("INSERT INTO apg (id, name, d) VALUES ($1, $2, $3)")
        names = [t.name for t in st.get_parameters()]
        assert names == ["int4", "text", "date"], names
    finally:
        await c.close()


async def check_parameters():
    """Binary values of every described type bind, insert and select."""
    c = await connect()
    try:
        await c.execute("DROP TABLE IF EXISTS apg")
        await c.execute(
            "CREATE TABLE apg (id INT, big BIGINT, name STRING, price DOUBLE, d DATE, "
            "amt DECIMAL(10,2), ok BOOLEAN, ts TIMESTAMP)"
        )
        rows = [
            (1, 10_000_000_000, "ann", 1.5, datetime.date(2024, 2, 29), decimal.Decimal("12.34"), True,
             datetime.datetime(2024, 2, 29, 12, 34, 56, 789000)),
            (2, -5, "bob's \\ \u00e9", None, None, None, False, None),
        ]
        await c.executemany("INSERT INTO apg VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", rows)
        got = [tuple(r) for r in await c.fetch("SELECT * FROM apg ORDER BY id")]
        assert got == rows, got
        assert await c.fetchval("SELECT name FROM apg WHERE id = $1", 2) == "bob's \\ \u00e9"
        assert await c.fetchval("SELECT id FROM apg WHERE name = $1", "bob's \\ \u00e9") == 2
        assert await c.fetchval("SELECT id FROM apg WHERE d = $1", datetime.date(2024, 2, 29)) == 1
        assert await c.fetchval("SELECT count(*) FROM apg WHERE price > $1", 1.0) == 1
        assert await c.fetchval("SELECT id FROM apg WHERE ok = $1", False) == 2
        assert await c.fetchval("SELECT id FROM apg WHERE amt = $1", decimal.Decimal("12.34")) == 1
        assert await c.fetchval("SELECT id FROM apg WHERE ts < $1", datetime.datetime(2025, 1, 1)) == 1
        assert await c.fetchval("SELECT $1 + 1", 41) == 42
        assert await c.fetchval("SELECT id FROM apg WHERE big = $1", None) is None
        # a prepared statement runs many times with new values
        st = await c.prepare("SELECT name FROM apg WHERE id = $1")
        for _ in range(50):
            assert await st.fetchval(1) == "ann"
            assert await st.fetchval(2) == "bob's \\ \u00e9"
    finally:
        await c.close()


async def check_types():
    """Every mapped type decodes from binary."""
    c = await connect()
    try:
        await c.execute("DROP TABLE IF EXISTS apg_typed")
        await c.execute(
            "CREATE TABLE apg_typed (ti TINYINT, si SMALLINT, i INT, bi BIGINT, f FLOAT, d DOUBLE, "
            "dec DECIMAL(10,2), s STRING, vc VARCHAR(10), c CHAR(4), b BOOLEAN, dt DATE, ts TIMESTAMP, "
            "bin BINARY, arr ARRAY<INT>, m MAP<STRING,INT>) STORED AS PARQUET"
        )
        await c.execute(
            "INSERT INTO apg_typed SELECT 1, 2, 3, 4000000000, 1.5, 2.25, 12.34, 'text', 'vc', 'ch', true, "
            "DATE '2024-02-29', TIMESTAMP '2024-02-29 12:34:56.789', unhex('DEADBEEF'), array(1,2,3), map('k', 1)"
        )
        r = await c.fetchrow("SELECT * FROM apg_typed")
        want = (1, 2, 3, 4000000000, 1.5, 2.25, decimal.Decimal("12.34"), "text", "vc", "ch  ", True,
                datetime.date(2024, 2, 29), datetime.datetime(2024, 2, 29, 12, 34, 56, 789000),
                b"\xde\xad\xbe\xef", [1, 2, 3], '{"k":1}')
        assert tuple(r) == want, tuple(r)
    finally:
        await c.close()


async def check_cursor():
    """A server-side cursor in a transaction, fetched in chunks."""
    c = await connect()
    try:
        n = 0
        async with c.transaction():
            cur = await c.cursor(
                "SELECT pos FROM (SELECT 1 AS one) o LATERAL VIEW posexplode(split(space(99999), ' ')) e AS pos, v"
            )
            while True:
                chunk = await cur.fetch(7000)
                if not chunk:
                    break
                n += len(chunk)
        assert n == 100_000, n
    finally:
        await c.close()


async def check_copy():
    c = await connect()
    try:
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "out.csv")
            status = await c.copy_from_query("SELECT id, name FROM apg ORDER BY id", output=out, format="csv", header=True)
            assert status == "COPY 2", status
            text = open(out, encoding="utf-8").read()
            assert text == "id,name\n1,ann\n2,bob's \\ \u00e9\n", repr(text)
    finally:
        await c.close()


async def check_errors():
    c = await connect()
    try:
        try:
            await c.fetch("SELECT * FROM no_such_table")
            raise AssertionError("no error")
        except asyncpg.UndefinedTableError as e:
            assert "no_such_table" in str(e), e
        try:
            await c.fetch("SELEC 1")
            raise AssertionError("no error")
        except asyncpg.PostgresSyntaxError:
            pass
        assert await c.fetchval("SELECT 42") == 42
    finally:
        await c.close()


async def check_cancel():
    """A statement timeout sends a CancelRequest; the connection goes on."""
    c = await connect()
    try:
        heavy = (
            "SELECT count(*) FROM (SELECT 1 AS one) o "
            "LATERAL VIEW posexplode(split(space(99999), ' ')) a AS p, v "
            "LATERAL VIEW posexplode(split(space(99999), ' ')) b AS q, w"
        )
        start = time.monotonic()
        try:
            await c.fetchval(heavy, timeout=0.5)
            raise AssertionError("the heavy query finished")
        except asyncio.TimeoutError:
            pass
        assert await c.fetchval("SELECT 7") == 7
        took = time.monotonic() - start
        assert took < 5, took
        print(f"cancel: timeout at 0.5 s, next statement answered at {took:.2f} s")
    finally:
        await c.close()


async def check_pool():
    """A pool of 20 connections, 100 queries at once."""
    pool = await asyncpg.create_pool(
        host=HOST, port=PORT, user=USER, password=PASSWORD, database="default", min_size=20, max_size=20
    )
    try:
        async def one(i):
            async with pool.acquire() as conn:
                return await conn.fetchval("SELECT $1 * 2", i)
        got = await asyncio.gather(*(one(i) for i in range(100)))
        assert got == [i * 2 for i in range(100)], got
    finally:
        await pool.close()


async def check_wrong_password():
    """Refused with 28P01, and nothing else: no protocol error in asyncpg's loop."""
    loop = asyncio.get_running_loop()
    troubles = []
    loop.set_exception_handler(lambda _loop, context: troubles.append(context.get("message")))
    try:
        await asyncpg.connect(host=HOST, port=PORT, user=USER, password=PASSWORD + "x", database="default")
        raise AssertionError("a wrong password was accepted")
    except asyncpg.InvalidPasswordError as e:
        assert "password authentication failed" in str(e), e
    await asyncio.sleep(0.3)
    loop.set_exception_handler(None)
    assert not troubles, troubles


async def main():
    for name in sys.argv[5:]:
        await globals()[f"check_{name}"]()
        print(f"ok {name}", flush=True)


asyncio.run(main())
