"""The basf2 stand-in, run as a subprocess exactly as gb2's job wrapper runs basf2."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from gb2.data.checksum import adler32_file
from gb2.standin import command
from gb2.standin.eventfile import (
    EventFileError,
    count_events,
    iter_events,
    read_header,
    read_ntuple,
    verify,
    write_event_file,
    write_ntuple,
)
from gb2.standin.synth import write_synthetic_mdst

EXAMPLES = Path(__file__).resolve().parent.parent / "steering_examples"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two MC mdst files: generic B+B- and signal (B0 -> J/psi K_S0) events."""
    d = tmp_path_factory.mktemp("inputs")
    files = [d / "charged.mdst.root", d / "signal.mdst.root"]
    write_synthetic_mdst(files[0], 150, 1, event_type="charged")
    write_synthetic_mdst(files[1], 150, 2, event_type="1111540100")
    return files


def run(cwd: Path, steering: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command(), str(steering), *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def input_args(files: list[Path]) -> list[str]:
    return [a for f in files for a in ("-i", str(f))]


def job_info(cwd: Path) -> dict:
    return json.loads((cwd / "ji.json").read_text())


def write_steering(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "steering.py"
    path.write_text("import basf2 as b2\nimport modularAnalysis as ma\n" + body)
    return path


# --- event files and synthetic inputs ----------------------------------------------


def test_synthetic_files_are_deterministic_small_and_truthful(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.root", tmp_path / "b.root", tmp_path / "c.root"
    assert write_synthetic_mdst(a, 200, 5, event_type="mixed") == 200
    write_synthetic_mdst(b, 200, 5, event_type="mixed")
    write_synthetic_mdst(c, 200, 6, event_type="mixed")
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert 20_000 < a.stat().st_size < 150_000
    assert count_events(a) == 200 and read_header(a)["metadata"]["isMC"] is True
    event = next(iter_events(a))
    assert event["tracks"] and all(t["mc"] < len(event["mcparticles"]) for t in event["tracks"])
    data = tmp_path / "data.root"
    write_synthetic_mdst(data, 50, 1, event_type="data", experiment=18, run=1394)
    events = list(iter_events(data))
    assert read_header(data)["metadata"]["isMC"] is False
    assert all("mcparticles" not in e and all("mc" not in t for t in e["tracks"]) for e in events)
    assert {(e["experiment"], e["run"]) for e in events} == {(18, 1394)}
    with pytest.raises(ValueError, match="unknown event type"):
        write_synthetic_mdst(tmp_path / "x.root", 1, 1, event_type="bogus")


def test_event_file_round_trip_and_damage(tmp_path: Path) -> None:
    path = tmp_path / "e.root"
    assert (
        write_event_file(path, ({"event": i} for i in range(3)), kind="mc", metadata={"k": 1}) == 3
    )
    assert [e["event"] for e in iter_events(path)] == [0, 1, 2]
    trees = {"t1": [{"x": 1.0, "y": float("nan")}, {"x": 2.0}], "t2": [{"z": 3}]}
    assert write_ntuple(tmp_path / "n.root", trees) == 2
    back = read_ntuple(tmp_path / "n.root")
    assert back["t1"][1] == {"x": 2.0, "y": None} and math.isnan(back["t1"][0]["y"])
    assert read_header(tmp_path / "n.root")["trees"][1] == {
        "name": "t2",
        "columns": ["z"],
        "rows": 1,
    }
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    assert count_events(path) == 3  # the header is still readable without the payload
    with pytest.raises(EventFileError, match="checksum"):
        list(iter_events(path))
    (tmp_path / "real.root").write_bytes(b"root\x00\x00\x00\x00junk")
    with pytest.raises(EventFileError, match="real ROOT file"):
        verify(tmp_path / "real.root")
    with pytest.raises(ValueError):
        write_event_file(tmp_path / "bad.root", [], kind="ntuple")


# --- the three steering examples --------------------------------------------------------


def test_ntuple_example(tmp_path: Path, inputs: list[Path]) -> None:
    r = run(
        tmp_path,
        EXAMPLES / "ntuple_analysis.py",
        *input_args(inputs),
        "--job-information",
        "ji.json",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "not basf2" in r.stderr.splitlines()[0]
    rows = read_ntuple(tmp_path / "ntuple.root")["kshort"]
    assert 50 < len(rows) < 2000
    signal = [row for row in rows if row["isSignal"] == 1.0]
    assert len(signal) > 50  # every signal event has a K_S0 -> pi+ pi-
    assert abs(sum(row["M"] for row in signal) / len(signal) - 0.4976) < 0.003
    info = job_info(tmp_path)
    assert (
        info["basf2_status"]["success"] is True and info["basf2_status"]["events_processed"] == 300
    )
    (out,) = info["output_files"]
    assert out["type"] == "RootNtuple" and out["filename"] == "ntuple.root"
    assert out["stats"]["events"] == len(rows)
    assert out["checksums"]["adler32"] == adler32_file(tmp_path / "ntuple.root")


def test_skim_keeps_only_selected_events(tmp_path: Path, inputs: list[Path]) -> None:
    r = run(
        tmp_path, EXAMPLES / "skim_udst.py", *input_args(inputs), "--job-information", "ji.json"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = tmp_path / "skim.udst.root"
    n = count_events(out)
    assert 0 < n < 300
    header = read_header(out)
    assert header["kind"] == "udst"
    assert header["metadata"]["parents"] == [str(f) for f in inputs]
    assert all(any(e["particle_lists"].values()) for e in iter_events(out))
    (entry,) = job_info(tmp_path)["output_files"]
    assert entry["type"] == "RootOutput" and entry["filename"] == "skim.udst.root"
    assert entry["metadata"]["nEvents"] == entry["stats"]["events"] == n
    assert entry["checksums"]["adler32"] == adler32_file(out)


def test_mc_generation_makes_exactly_the_requested_events(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        EXAMPLES / "mc_generation.py",
        "-n",
        "25",
        "--random-seed",
        "42",
        "--job-information",
        "ji.json",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = tmp_path / "mc.mdst.root"
    assert count_events(out) == 25
    events = list(iter_events(out))
    assert [e["event"] for e in events] == list(range(1, 26))
    assert all(e["mcparticles"][0]["pdg"] == 300553 for e in events)
    assert sum(len(e["tracks"]) for e in events) > 25 * 3
    meta = read_header(out)["metadata"]
    assert meta["isMC"] is True and meta["mcEvents"] == 25 and meta["randomSeed"] == "42"
    assert job_info(tmp_path)["output_files"][0]["stats"]["events"] == 25
    again = tmp_path / "again"
    again.mkdir()
    run(again, EXAMPLES / "mc_generation.py", "-n", "25", "--random-seed", "42")
    assert (again / "mc.mdst.root").read_bytes() == out.read_bytes()


def test_mc_generation_default_event_count(tmp_path: Path) -> None:
    r = run(tmp_path, EXAMPLES / "mc_generation.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert count_events(tmp_path / "mc.mdst.root") == 100


def test_n_and_skip_limit_the_events(tmp_path: Path, inputs: list[Path]) -> None:
    r = run(
        tmp_path,
        EXAMPLES / "skim_udst.py",
        *input_args(inputs),
        "-n",
        "5",
        "--skip-events",
        "140",
        "-o",
        "renamed.udst.root",
        "--job-information",
        "ji.json",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    status = job_info(tmp_path)["basf2_status"]
    assert status["events_processed"] == 5 and status["total_events"] == 5
    events = list(iter_events(tmp_path / "renamed.udst.root"))  # -o renames the RootOutput
    assert len(events) <= 5 and not (tmp_path / "skim.udst.root").exists()
    assert all(141 <= e["event"] <= 145 for e in events)


def test_input_override_reads_files_in_order(tmp_path: Path, inputs: list[Path]) -> None:
    steering = write_steering(
        tmp_path,
        (
            "main = b2.create_path()\n"
            "ma.inputMdstList(filelist=['does-not-exist.root'], path=main)\n"
            "ma.variablesToNtuple('', ['expNum', 'evtNum', 'nTracks'], filename='ev.root', path=main)\n"
            "b2.process(main)\n"
        ),
    )
    r = run(tmp_path, steering, *input_args(list(reversed(inputs))))
    assert r.returncode == 0, r.stdout + r.stderr
    rows = read_ntuple(tmp_path / "ev.root")["variables"]
    assert [row["evtNum"] for row in rows] == list(range(1, 151)) * 2
    assert len(rows) == 300


def test_combinations_use_each_object_once_and_event_cuts_skip_events(
    tmp_path: Path, inputs: list[Path]
) -> None:
    steering = write_steering(
        tmp_path,
        (
            "main = b2.create_path()\n"
            "ma.inputMdst('x.root', path=main)\n"
            "ma.applyEventCuts('[nTracks >= 8] and [nTracks < 12]', path=main)\n"
            "ma.fillParticleList('gamma:all', '', path=main)\n"
            "ma.reconstructDecay('pi0:gg -> gamma:all gamma:all', '', path=main)\n"
            "ma.variablesToNtuple('', ['nTracks', 'nParticlesInList(gamma:all)', 'nParticlesInList(pi0:gg)'],"
            " filename='ev.root', path=main)\n"
            "b2.process(main)\n"
        ),
    )
    r = run(tmp_path, steering, *input_args(inputs[:1]))
    assert r.returncode == 0, r.stdout + r.stderr
    rows = read_ntuple(tmp_path / "ev.root")["variables"]
    expected = [e for e in iter_events(inputs[0]) if 8 <= len(e["tracks"]) < 12]
    assert 0 < len(rows) == len(expected) < 150
    for row, event in zip(rows, expected, strict=True):
        n = len(event["photons"])
        assert row["nParticlesInList(gamma:all)"] == n
        assert row["nParticlesInList(pi0:gg)"] == n * (n - 1) // 2


def test_deterministic_outputs(tmp_path: Path, inputs: list[Path]) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        for example in ("ntuple_analysis.py", "skim_udst.py"):
            r = run(tmp_path / name, EXAMPLES / example, *input_args(inputs), "--random-seed", "1")
            assert r.returncode == 0, r.stderr
    for out in ("ntuple.root", "skim.udst.root"):
        assert (tmp_path / "one" / out).read_bytes() == (tmp_path / "two" / out).read_bytes()


# --- failures look like basf2's ---------------------------------------------------------


def test_steering_exception_fails_with_traceback(tmp_path: Path) -> None:
    steering = write_steering(tmp_path, "raise RuntimeError('boom: no such sample 42')\n")
    r = run(tmp_path, steering, "--job-information", "ji.json")
    assert r.returncode == 1
    assert "Traceback" in r.stderr and "RuntimeError: boom: no such sample 42" in r.stderr
    status = job_info(tmp_path)["basf2_status"]
    assert status["finished"] is True and status["success"] is False and status["exit_status"] == 1


def test_unknown_module_fails_like_basf2(tmp_path: Path) -> None:
    steering = write_steering(tmp_path, "main = b2.create_path()\nmain.add_module('RootInputt')\n")
    r = run(tmp_path, steering)
    assert r.returncode == 1
    assert (
        "[ERROR] Cannot create module RootInputt: The module is not known to the framework!"
        in r.stdout
    )
    assert "basf2.ModuleNotCreatedError: Cannot create module RootInputt" in r.stderr


def test_unknown_parameter_stops_processing(tmp_path: Path, inputs: list[Path]) -> None:
    steering = write_steering(
        tmp_path,
        (
            "main = b2.create_path()\n"
            "ma.inputMdst('x.root', path=main)\n"
            "main.add_module('RootOutput', outputFilename='typo.root')\n"
            "b2.process(main)\n"
        ),
    )
    r = run(tmp_path, steering, *input_args(inputs[:1]))
    assert r.returncode == 1
    assert "Could not find the parameter with the name 'outputFilename'" in r.stdout
    assert "[FATAL] 1 ERROR(S) occurred! The processing of events will not be started." in r.stdout
    assert not list(tmp_path.glob("*.root"))


@pytest.mark.parametrize(
    "lines, messages",
    [
        (["ma.fillParticleList('pi+:x', 'pionIDD > 0.5', path=main)"], ["unknown variable 'pionIDD'", "will not be started"]),
        (["ma.fillParticleList('pi+:x', '', path=main)", "ma.reconstructDecay('K_S0:x -> ^pi+:x pi-:x', '', path=main)"],
         ["selection markers '^'", "does not support"]),
    ],
    ids=["unknown variable in a cut", "selection marker in a decay string"],
)
def test_unsupported_cut_or_decay_string_is_a_clear_error(
    tmp_path: Path, inputs: list[Path], lines: list[str], messages: list[str]
) -> None:
    body = "".join(f"{line}\n" for line in ["main = b2.create_path()", "ma.inputMdst('x.root', path=main)", *lines,
                                              "b2.process(main)"])  # fmt: skip
    r = run(tmp_path, write_steering(tmp_path, body), *input_args(inputs[:1]))
    assert r.returncode == 1
    assert all(message in r.stdout for message in messages)


def test_corrupt_and_missing_inputs_fail_clearly(tmp_path: Path, inputs: list[Path]) -> None:
    bad = tmp_path / "bad.mdst.root"
    data = bytearray(inputs[0].read_bytes())
    data[len(data) // 2] ^= 0x55
    bad.write_bytes(bytes(data))
    r = run(
        tmp_path, EXAMPLES / "ntuple_analysis.py", "-i", str(bad), "--job-information", "ji.json"
    )
    assert r.returncode == 1
    assert f"[FATAL] Couldn't open input file {bad}" in r.stdout and "checksum mismatch" in r.stdout
    assert not (tmp_path / "ntuple.root").exists()
    assert job_info(tmp_path)["basf2_status"]["success"] is False
    r = run(tmp_path, EXAMPLES / "ntuple_analysis.py", "-i", "missing.root")
    assert r.returncode == 1 and "Couldn't open input file missing.root" in r.stdout


def test_command_line_contract(tmp_path: Path, inputs: list[Path]) -> None:
    r = subprocess.run([*command(), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and "stand-in" in r.stdout and "not basf2" in r.stdout
    r = subprocess.run([*command(), "-m"], capture_output=True, text=True)
    assert r.returncode == 0 and "RootInput" in r.stdout and "VariablesToNtuple" in r.stdout
    r = run(tmp_path, EXAMPLES / "ntuple_analysis.py", "--bogus")
    assert r.returncode == 1 and "error: unrecognised option '--bogus'" in r.stderr
    r = run(tmp_path, EXAMPLES / "ntuple_analysis.py", "-n", "0")
    assert r.returncode == 1 and "Invalid number of events" in r.stdout
    r = run(tmp_path, tmp_path / "nope.py")
    assert r.returncode == 1 and "The given filename and/or path is not valid" in r.stdout
    steering = tmp_path / "args.py"
    steering.write_text("import sys\nprint('ARGS', sys.argv[1:])\nsys.exit(3)\n")
    r = run(tmp_path, steering, "-p", "4", "-l", "ERROR", "--", "--sample", "x", "-o", "y")
    assert r.returncode == 3
    assert "ARGS ['--sample', 'x', '-o', 'y']" in r.stdout


def test_dry_run_lists_files_and_processes_nothing(tmp_path: Path, inputs: list[Path]) -> None:
    r = run(tmp_path, EXAMPLES / "skim_udst.py", *input_args(inputs), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert f"INPUT FILE: {inputs[0]}" in r.stdout and "OUTPUT FILE: skim.udst.root" in r.stdout
    assert not (tmp_path / "skim.udst.root").exists()


def test_import_is_cheap_and_command_is_python() -> None:
    assert command() == [sys.executable, "-m", "gb2.standin"]
    code = "import sys, gb2.standin; print(sorted(m for m in sys.modules if m.startswith('gb2')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['gb2', 'gb2.standin']"


# --- pickled paths: b2luigi's default gbasf2 route ------------------------------------------

PATH_BUILDER = """
import basf2, modularAnalysis as ma
from variables import variables as vm

def build():
    path = basf2.create_path()
    ma.inputMdstList([], path=path)
    vm.addAlias("mom", "p")
    vm.addAlias("momCMS", "useCMSFrame(mom)")
    ma.fillParticleList("pi+:good", "mom > 0.2", path=path)
    ma.fillParticleList("K+:good", "kaonID > 0.5", path=path)
    skim = basf2.create_path()
    ma.variablesToNtuple("K+:good", ["mom"], filename="kaons.root", path=skim)
    counter = path.add_module("VariableToReturnValue", variable="nParticlesInList(K+:good)")
    counter.if_value(">0", skim, basf2.AfterConditionPath.CONTINUE)
    side = basf2.create_path()
    ma.variablesToNtuple("", ["nTracks"], filename="side.root", path=side)
    path.add_independent_path(side, "side")
    ma.variablesToNtuple("pi+:good", ["mom", "momCMS", "M"], filename="pions.root", path=path)
    return path
"""

# What b2luigi does locally: pickle the path with the aliases, global tags and log level.
PICKLE_IT = PATH_BUILDER + """
import pickle
from basf2 import conditions, logging
from basf2.pickle_path import serialize_path

conditions.globaltags = ["analysis_tag"]
basf2.set_log_level(basf2.LogLevel.WARNING)
data = serialize_path(build())
data["aliases"] = {a: vm.getVariable(a).name for a in vm.getAliasNames()}
data["globaltags"] = conditions.globaltags
data["log_level"] = logging.log_level
with open("path.pkl", "wb") as f:
    pickle.dump(data, f)
"""

# What b2luigi's wrapper steering file does in the job.
RUN_PICKLE = """
import pickle, basf2
from basf2 import pickle_path
from variables import variables as vm

with open("path.pkl", "rb") as f:
    data = pickle.load(f)
for alias, variable in data["aliases"].items():
    vm.addAlias(alias, variable)
basf2.conditions.globaltags += data["globaltags"]
basf2.set_log_level(data["log_level"])
path = pickle_path.get_path_from_file("path.pkl")
basf2.print_path(path)
print("GLOBALTAGS", basf2.conditions.globaltags)
basf2.process(path=path, max_event=0)
"""


def test_a_pickled_path_runs_in_the_job_as_built(tmp_path: Path, inputs: list[Path]) -> None:
    """The pickled path, run in another process, writes what the path run directly writes."""
    direct, local, job = (tmp_path / d for d in ("direct", "local", "job"))
    for d in (direct, local, job):
        d.mkdir()
    (direct / "s.py").write_text(PATH_BUILDER + "basf2.process(build())\n")
    assert run(direct, direct / "s.py", *input_args(inputs), "--random-seed", "7").returncode == 0

    made = run(local, write_steering(local, PICKLE_IT))
    assert made.returncode == 0, made.stdout + made.stderr
    assert not (local / "pions.root").exists()  # building and pickling processes nothing
    (job / "path.pkl").write_bytes((local / "path.pkl").read_bytes())
    (job / "run.py").write_text(RUN_PICKLE)
    r = run(job, job / "run.py", *input_args(inputs), "--random-seed", "7")
    assert r.returncode == 0, r.stdout + r.stderr

    assert "GLOBALTAGS ['analysis_tag']" in r.stdout
    assert "Starting event processing" not in r.stdout  # the pickled log level (WARNING) applies
    assert "VariablesToNtuple_pi+:good (VariablesToNtuple)" in r.stdout  # print_path
    assert "variables = ['mom', 'momCMS', 'M']" in r.stdout
    for name in ("pions.root", "kaons.root", "side.root"):
        assert read_ntuple(job / name) == read_ntuple(direct / name), name
    pions = read_ntuple(job / "pions.root")["variables"]
    assert pions and all(row["mom"] > 0.2 and row["momCMS"] > 0 for row in pions)


def test_python_modules_cannot_be_pickled(tmp_path: Path) -> None:
    steering = write_steering(tmp_path, """
from basf2.pickle_path import serialize_path

class Mine(b2.Module):
    pass

path = b2.create_path()
path.add_module(Mine())
serialize_path(path)
""")
    r = run(tmp_path, steering)
    assert r.returncode == 1
    assert "RuntimeError: The module 'Mine' is a Python module: it cannot be serialized" in r.stderr


def test_variable_manager_aliases(tmp_path: Path, inputs: list[Path]) -> None:
    steering = write_steering(tmp_path, """
from variables import variables as vm

assert vm.addAlias("mom", "p") and vm.addAlias("twice", "mom")
assert not vm.addAlias("p", "E")  # a variable's name cannot become an alias
print("NAMES", sorted(vm.getAliasNames()), vm.getVariable("twice").name, vm.getVariable("M").name)
print("UNKNOWN", vm.getVariable("noSuchVariable"))
""")
    r = run(tmp_path, steering)
    assert r.returncode == 0, r.stderr
    assert "NAMES ['mom', 'twice'] p M" in r.stdout
    assert "UNKNOWN None" in r.stdout and "[ERROR] Variable 'noSuchVariable' is not registered" in r.stdout
    assert "[ERROR] Variable with name 'p' already exists" in r.stdout

    looping = write_steering(tmp_path, """
from variables import variables as vm

vm.addAlias("loop", "loop2")
vm.addAlias("loop2", "loop")
path = b2.create_path()
ma.inputMdstList([], path=path)
ma.fillParticleList("pi+:x", "loop > 1", path=path)
b2.process(path)
""")
    r = run(tmp_path, looping, *input_args(inputs))
    assert r.returncode == 1 and "[ERROR] alias loop: loop -> loop2 -> loop" in r.stdout
