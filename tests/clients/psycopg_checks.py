"""Real PostgreSQL clients against a live `hiveql serve`: psycopg 3,
SQLAlchemy's inspector and pandas. Run by tests/tests/serve.rs as
`python psycopg_checks.py HOST PORT USER PASSWORD CHECK...`; each check
prints `ok NAME` or raises (a non-zero exit fails the Rust test).
"""

import datetime
import decimal
import os
import sys
import threading
import time

import psycopg

HOST, PORT, USER, PASSWORD = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def numbers(n):
    """A query of the rows 1..n in column `id` (Hive has no generate_series)."""
    return f"SELECT pos + 1 AS id FROM (SELECT 1 AS one) o LATERAL VIEW posexplode(split(space({n - 1}), ' ')) e AS pos, v"


def heavy_join():
    """A query that runs for minutes (10^10 pairs) and yields rows only at the end."""
    return f"SELECT count(*) FROM ({numbers(100000)}) x CROSS JOIN ({numbers(100000)}) y WHERE x.id + y.id = 7"


def connect(**kw):
    args = dict(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname="default", autocommit=True)
    args.update(kw)
    return psycopg.connect(**args)


def check_parameters():
    with connect() as conn:
        conn.execute("DROP TABLE IF EXISTS people")
        conn.execute("CREATE TABLE people (id INT, name STRING, score DOUBLE)")
        conn.execute("INSERT INTO people VALUES (1, 'ann', 1.5), (2, 'bob\\'s', 2.5), (3, 'c\\\\d', NULL)")
        rows = conn.execute("SELECT name FROM people WHERE id = %s", (2,)).fetchall()
        assert rows == [("bob's",)], rows
        rows = conn.execute("SELECT id FROM people WHERE name = %s", ("bob's",)).fetchall()
        assert rows == [(2,)], rows
        rows = conn.execute("SELECT id FROM people WHERE name = %s OR name = %s ORDER BY id", ("ann", "c\\d")).fetchall()
        assert rows == [(1,), (3,)], rows
        rows = conn.execute("SELECT count(*) FROM people WHERE score > %s", (2.0,)).fetchall()
        assert rows == [(1,)], rows
        # an INSERT with parameters answers with its row count
        cur = conn.execute("INSERT INTO people VALUES (%s, %s, %s)", (4, "dee", None))
        assert cur.rowcount == 1, cur.rowcount
        assert conn.execute("SELECT count(*) FROM people").fetchone() == (4,)


def check_types():
    with connect() as conn:
        conn.execute("DROP TABLE IF EXISTS typed")
        conn.execute(
            "CREATE TABLE typed (ti TINYINT, si SMALLINT, i INT, bi BIGINT, f FLOAT, d DOUBLE, "
            "dec DECIMAL(10,2), s STRING, vc VARCHAR(10), c CHAR(4), b BOOLEAN, dt DATE, ts TIMESTAMP, "
            "bin BINARY, arr ARRAY<INT>, m MAP<STRING,INT>, st STRUCT<a:INT,b:STRING>) STORED AS PARQUET"
        )
        conn.execute(
            "INSERT INTO typed SELECT 1, 2, 3, 4000000000, 1.5, 2.25, 12.34, 'text', 'vc', 'ch', true, "
            "DATE '2024-02-29', TIMESTAMP '2024-02-29 12:34:56.789', unhex('DEADBEEF'), array(1,2,3), "
            "map('k', 1), named_struct('a', 1, 'b', 'x')"
        )
        for binary in (False, True):
            cur = conn.cursor(binary=binary)
            row = cur.execute("SELECT * FROM typed").fetchone()
            names = [d.name for d in cur.description]
            oids = {d.name: d.type_code for d in cur.description}
            expect_oids = dict(ti=21, si=21, i=23, bi=20, f=700, d=701, dec=1700, s=25, vc=1043, c=1042, b=16,
                               dt=1082, ts=1114, bin=17, arr=1007, m=114, st=114)
            assert oids == expect_oids, (binary, oids)
            got = dict(zip(names, row))
            assert got["ti"] == 1 and got["si"] == 2 and got["i"] == 3 and got["bi"] == 4000000000, got
            assert got["f"] == 1.5 and got["d"] == 2.25, got
            assert got["dec"] == decimal.Decimal("12.34"), got
            assert got["s"] == "text" and got["vc"] == "vc" and got["c"].rstrip() == "ch", got
            assert got["b"] is True, got
            assert got["dt"] == datetime.date(2024, 2, 29), got
            assert got["ts"] == datetime.datetime(2024, 2, 29, 12, 34, 56, 789000), got
            assert bytes(got["bin"]) == bytes.fromhex("DEADBEEF"), got
            assert got["arr"] == [1, 2, 3], got
            assert got["m"] == {"k": 1}, got
            assert got["st"] == {"a": 1, "b": "x"}, got
        # MAP and STRUCT columns are json: keys that are not strings are quoted
        row = conn.execute(
            "SELECT map(1, 'a', 2, 'b') AS m, named_struct('n', map(1.5, array(map(true, 1)))) AS st"
        ).fetchone()
        assert row == ({"1": "a", "2": "b"}, {"n": {"1.5": [{"true": 1}]}}), row
        # parameters of every type bind with the same mapping
        params = (2, 4000000000, 2.25, decimal.Decimal("12.34"), "text", True, datetime.date(2024, 2, 29),
                  datetime.datetime(2024, 2, 29, 12, 34, 56, 789000), b"\xde\xad\xbe\xef")
        n = conn.execute(
            "SELECT count(*) FROM typed WHERE si = %s AND bi = %s AND d = %s AND dec = %s AND s = %s AND b = %s "
            "AND dt = %s AND ts = %s AND bin = %s",
            params,
        ).fetchone()
        assert n == (1,), n


def check_server_side_cursor():
    with connect(autocommit=False) as conn:
        with conn.cursor(name="big") as cur:
            cur.itersize = 5000
            cur.execute(f"SELECT id, id * 2 AS twice FROM ({numbers(150000)}) t")
            count = 0
            total = 0
            for row in cur:
                count += 1
                total += row[1]
            assert count == 150000, count
            assert total == 150000 * 150001, total
            assert cur.fetchone() is None


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def check_streamed_rows():
    """A plain query's rows reach the client as they are made. psycopg's stream()
    reads them one at a time from an Execute with no row limit, which is what
    every driver sends for a plain query; 50 million rows gathered before the
    first was sent would take minutes and gigabytes. Leaving the stream early
    cancels the rest, and the connection goes on."""
    pid = int(os.environ["HIVEQL_SERVER_PID"])
    with connect() as conn:
        cur = conn.cursor(binary=True)
        before = rss_mib(pid)
        start = time.time()
        first = None
        n = 0
        for row in cur.stream(f"SELECT x.id, y.id FROM ({numbers(10000)}) x CROSS JOIN ({numbers(5000)}) y"):
            if first is None:
                first = time.time() - start
            n += 1
            if n == 200_000:
                break
        grew = rss_mib(pid) - before
        assert first < 10, f"the first of 50,000,000 rows came after {first:.1f} s"
        assert grew < 300, f"the server grew by {grew:.0f} MiB while 200,000 rows were read"
        print(f"first row after {first:.2f} s; server grew {grew:.0f} MiB over 200,000 rows", flush=True)
        assert conn.execute("SELECT 42").fetchone() == (42,)


def check_prepared_many_times():
    with connect() as conn:
        cur = conn.cursor()
        for i in range(200):
            got = cur.execute("SELECT %s + 1", (i,), prepare=True).fetchone()
            assert got == (i + 1,), got


def check_copy_to_stdout():
    with connect() as conn:
        cur = conn.cursor()
        lines = []
        with cur.copy("COPY (SELECT id, name FROM people ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            for data in copy:
                lines.append(bytes(data).decode())
        text = "".join(lines)
        assert text.splitlines()[0] == "id,name", text
        assert "2,bob's" in text, text
        with cur.copy("COPY (SELECT id, score FROM people ORDER BY id) TO STDOUT") as copy:
            rows = list(copy.rows())
        assert rows[0] == ("1", "1.5") and rows[2] == ("3", None), rows


def check_cancel():
    with connect() as conn, connect() as other:
        cur = conn.cursor()
        quick = []
        def cancel_soon():
            time.sleep(1.0)
            conn.cancel()
        def meanwhile():
            # another connection is answered while the join runs (each
            # connection's statements run on a runtime of their own)
            time.sleep(0.5)
            t = time.time()
            assert other.execute("SELECT 42").fetchone() == (42,)
            quick.append(time.time() - t)
        threads = [threading.Thread(target=cancel_soon), threading.Thread(target=meanwhile)]
        for t in threads:
            t.start()
        start = time.time()
        try:
            cur.execute(heavy_join())
            raise AssertionError("the query was not cancelled")
        except psycopg.errors.QueryCanceled as e:
            assert e.sqlstate == "57014", e.sqlstate
        took = time.time() - start
        # 10^10 pairs take minutes in a dev build; the cancel, sent after 1 s, is answered at once
        assert took < 3, f"the cancel took {took - 1:.2f} s to be answered"
        for t in threads:
            t.join()
        assert quick, "the second connection was not answered"
        assert quick[0] < 2, f"the second connection waited {quick[0]:.2f} s for the join"
        print(f"cancelled after {took:.2f} s; second connection answered in {quick[0]:.2f} s", flush=True)
        # the connection stays usable
        assert conn.execute("SELECT 42").fetchone() == (42,)


def check_statement_timeout():
    """PostgreSQL's statement_timeout (ms) is Hive's hive.query.timeout.seconds."""
    with connect() as conn:
        conn.execute("SET statement_timeout = 1000")
        start = time.time()
        try:
            conn.execute(heavy_join())
            raise AssertionError("the query was not stopped at its timeout")
        except psycopg.errors.QueryCanceled as e:
            assert str(e).startswith("FAILED [Error 20005]: query timed out after 1 s"), str(e)
        took = time.time() - start
        assert took < 4, f"a 1 s timeout ended the query after {took:.2f} s"
        print(f"a 1 s statement_timeout ended the query after {took:.2f} s", flush=True)
        conn.execute("SET statement_timeout = '0'")
        assert conn.execute("SELECT 42").fetchone() == (42,)


def check_concurrent_connections():
    errors = []
    def worker(n):
        try:
            with connect() as conn:
                conn.execute(f"SET hivevar:n={n}")
                got = conn.execute("SELECT ${hivevar:n}, count(*) FROM people").fetchone()
                assert got == (n, 4), got
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def check_errors_keep_the_connection():
    with connect() as conn:
        for sql, state in [("SELECT * FROM no_such_table", "42P01"), ("SELEC 1", "42601"),
                           ("SELECT no_such_column FROM people", None)]:
            try:
                conn.execute(sql)
                raise AssertionError(sql)
            except psycopg.Error as e:
                if state:
                    assert e.sqlstate == state, (sql, e.sqlstate, str(e))
        assert conn.execute("SELECT 1").fetchone() == (1,)


def check_wrong_password():
    try:
        connect(password="wrong-" + PASSWORD).close()
        raise AssertionError("a wrong password was let in")
    except psycopg.OperationalError as e:
        assert "password authentication failed" in str(e), str(e)


def check_sqlalchemy_and_pandas():
    import pandas
    import sqlalchemy
    url = f"postgresql+psycopg://{USER}:{PASSWORD}@{HOST}:{PORT}/default"
    engine = sqlalchemy.create_engine(url)
    inspector = sqlalchemy.inspect(engine)
    assert "default" in inspector.get_schema_names(), inspector.get_schema_names()
    tables = inspector.get_table_names(schema="default")
    assert "people" in tables, tables
    columns = inspector.get_columns("people", schema="default")
    assert [(c["name"], str(c["type"]), c["nullable"], c["default"]) for c in columns] == [
        ("id", "INTEGER", True, None), ("name", "TEXT", True, None), ("score", "DOUBLE PRECISION", True, None)], columns
    frame = pandas.read_sql("SELECT id, name FROM people ORDER BY id", engine)
    assert list(frame["id"]) == [1, 2, 3, 4], frame
    engine.dispose()


for name in sys.argv[5:]:
    globals()["check_" + name]()
    print("ok", name, flush=True)
