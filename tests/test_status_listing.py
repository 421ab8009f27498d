"""gb2_job_status's listing of many jobs: the --json rows a gb2 server sends with their keys
(the ``Gb2-Row-Keys`` extension), the fallback for DiracX's standard rows, and searches by job
name (a project's scouts) on the server's name index."""

from __future__ import annotations

import io
import json
from collections import Counter

import httpx
import pytest

from gb2.errors import RequestRefused
from gb2.ui.reports import JOB_JSON_KEYS
from tests.cli import Grid, add_remote_profile
from tests.helpers import jdl


@pytest.fixture
def quiet_grid(server_factory, capsys) -> Grid:
    """A grid whose jobs stay where they are (no engine), alice logged in."""
    srv = server_factory()
    add_remote_profile("quiet", srv)
    g = Grid(srv, "quiet", capsys)
    g.login("alice")
    return g


def _renamed(rows: list[dict]) -> list[dict]:
    return [{JOB_JSON_KEYS[k]: v for k, v in row.items()} for row in rows]


def test_json_listing_is_what_the_standard_rows_give(quiet_grid):
    """Rows passed through as the server wrote them must be the very text gb2 writes from the
    standard rows, non-ASCII text (escaped by Python's encoder) included; the counts too."""
    dx = quiet_grid.dx
    ids = [j["JobID"] for j in dx.submit_jdl([jdl(f"lst_{i}", group="lst") for i in range(5)])]
    dx.set_job_status(ids[1:3], status="Killed", minor="Marked for termination")
    dx.set_job_status([ids[3]], application="Événement 5 ✓ \x7f tab\there")  # escaped by Python, not by SQLite
    for project, expect_escape in (("lst", True), ("other", False)):
        if project == "other":
            dx.submit_jdl([jdl(f"other_{i}", group="other") for i in range(3)])
        r = quiet_grid.run("gb2_job_status", "-p", project, "--json")
        assert r.code == 0, r.err
        from gb2.jobs.status import JOB_PARAMETERS

        rows = list(dx.iter_search(JOB_PARAMETERS, [{"parameter": "JobGroup", "operator": "eq", "value": project}]))
        statuses = dict(sorted(Counter(row["Status"] for row in rows).items()))
        doc = json.loads(r.out)
        assert doc["jobs"] == _renamed(rows) and doc["selected"] == len(rows) and doc["statuses"] == statuses
        # byte for byte what print_json writes into a pipe
        assert r.out == json.dumps(doc, separators=(",", ":")) + "\n"
        assert ("\\u00c9v\\u00e9nement 5 \\u2713 \\u007f tab\\there" in r.out) is expect_escape


def test_row_keys_extension_and_its_refusals(quiet_grid):
    dx = quiet_grid.dx
    dx.submit_jdl([jdl(f"ext_{i}", group="ext") for i in range(25)])
    where = [{"parameter": "JobGroup", "operator": "eq", "value": "ext"}]
    pages = list(dx.iter_search_results(["JobID", "Status"], where, per_page=10, keys={"JobID": "id"}))
    assert [p.status_counts for p in pages] == [{"Received": 10}, {"Received": 10}, {"Received": 5}]
    assert all(p.rows == [] for p in pages)
    assert [len(json.loads(p.raw)) for p in pages] == [10, 10, 5]
    assert set(json.loads(pages[0].raw)[0]) == {"id", "Status"}
    assert (pages[2].first, pages[2].last, pages[2].total) == (20, 24, 25)
    plain = dx.search(["JobID", "Status"], where, per_page=10)  # without keys: DiracX's standard rows
    assert plain.raw is None and set(plain.rows[0]) == {"JobID", "Status"}
    # a pseudo-parameter is answered in the standard shape: the client sees the header missing
    history = dx.search(["JobID", "LoggingInfo"], where, per_page=2, keys={"JobID": "id"})
    assert history.raw is None and "LoggingInfo" in history.rows[0]
    for bad in ('{"JobID": "no spaces"}', '{"Nope": "x"}', "[1]", "not json", '{"JobID": "x\'); DROP"}'):
        r = httpx.post(f"{quiet_grid.server.url}/api/jobs/search", json={"parameters": ["JobID"]},
                       headers={"Authorization": f"Bearer {dx.access_token()}", "Gb2-Row-Keys": bad})  # fmt: skip
        assert r.status_code == 422 and "Gb2-Row-Keys" in r.text, bad


def test_searches_by_job_name(quiet_grid):
    """Names are looked up in the server's index, alone or with other conditions; an empty list
    of names matches nothing (and is no error)."""
    dx = quiet_grid.dx
    ids = [j["JobID"] for j in dx.submit_jdl([jdl(f"nm_{i:02d}", group="nm") for i in range(30)])]
    dx.submit_jdl([jdl("nm_03", group="elsewhere")])
    dx.set_job_status([ids[4]], status="Killed", minor="Marked for termination")

    def found(*conditions: dict) -> list[int]:
        return [r["JobID"] for r in dx.iter_search(["JobID"], list(conditions))]

    group = {"parameter": "JobGroup", "operator": "eq", "value": "nm"}
    assert found(group, {"parameter": "JobName", "operator": "eq", "value": "nm_03"}) == [ids[3]]
    names = {"parameter": "JobName", "operator": "in", "values": ["nm_04", "nm_05", "nm_99"]}
    assert found(group, names) == [ids[4], ids[5]]
    assert found(group, names, {"parameter": "Status", "operator": "eq", "value": "Killed"}) == [ids[4]]
    assert len(found({"parameter": "JobName", "operator": "in", "values": ["nm_03", "nm_04"]})) == 3
    assert found(group, {"parameter": "JobName", "operator": "in", "values": []}) == []
    assert found(group, {"parameter": "JobName", "operator": "not in", "values": ["nm_00"]}) == ids[1:]
    with pytest.raises(RequestRefused):
        found({"parameter": "JobName", "operator": "in", "values": "nm_03"})


def test_table_from_columns_is_what_the_standard_rows_give(quiet_grid):
    """gb2_job_status's table from a gb2 server's column pages (``Gb2-Page-Shape: columns``) is
    the table the standard rows give, statuses and summary included; pages of columns add up to
    the rows; a bad shape is refused."""
    from operator import itemgetter

    from gb2.ui.output import PlainTable
    from gb2.ui.reports import JOB_HEADERS, JOB_HEADERS_PARAMS

    dx = quiet_grid.dx
    ids = [j["JobID"] for j in dx.submit_jdl([jdl(f"col_{i}", group="col") for i in range(25)])]
    dx.set_job_status(ids[2:5], status="Killed", minor="Marked for termination")
    dx.set_job_status([ids[7]], application="Événement ✓")
    where = [{"parameter": "JobGroup", "operator": "eq", "value": "col"}]
    wanted = ["JobID", *JOB_HEADERS_PARAMS]
    rows = list(dx.iter_search(wanted, where))
    pages = list(dx.iter_search_results(wanted, where, per_page=10, columns=True))
    assert [p.rows for p in pages] == [[], [], []] and [len(p.columns["JobID"]) for p in pages] == [10, 10, 5]
    assert [r["JobID"] for r in rows] == [j for p in pages for j in p.columns["JobID"]]
    assert sum((Counter(p.status_counts) for p in pages), Counter()) == Counter({"Received": 22, "Killed": 3})
    expected = PlainTable(JOB_HEADERS)
    expected.add(map(itemgetter(*wanted), rows))
    out = io.StringIO()
    expected.write(out)
    r = quiet_grid.run("gb2_job_status", "-p", "col")
    assert r.code == 0, r.err
    assert r.out.startswith(f"25 jobs are selected.\n{out.getvalue()}--- Summary of Selected Jobs ---\n")
    assert "Killed:3" in r.out and "Événement ✓" in r.out
    for bad in ("Columns", "table", "columns,rows"):
        answer = httpx.post(f"{quiet_grid.server.url}/api/jobs/search", json={"parameters": ["JobID"]},
                            headers={"Authorization": f"Bearer {dx.access_token()}", "Gb2-Page-Shape": bad})  # fmt: skip
        assert answer.status_code == 422 and "Gb2-Page-Shape" in answer.text, bad
