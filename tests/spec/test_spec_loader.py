"""Tests for reconciler.spec.loader: finding files, reporting every problem at once."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from reconciler.errors import SpecError, SpecProblem
from reconciler.spec import load_spec, loader, merge

SPECS = Path(__file__).resolve().parents[1] / "specs"
BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_validate.py"
ENV = {"DB_NAME_PREFIX": "team"}
# One bad spec (a file, or a folder for rules spanning files) per rule; the exact output
# is in the matching .expected file.
BAD_CASES = sorted(p.name for p in SPECS.glob("bad-*") if p.suffix != ".expected")


def expected_lines(case: str) -> list[str]:
    return (SPECS / f"{case.removesuffix('.yaml')}.expected").read_text().splitlines()


def problems_of(paths: list[str], env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(paths, ENV if env is None else env)
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return [str(p) for p in caught.value.problems]


@pytest.fixture(autouse=True)
def in_specs_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    # File names in messages are as given: run from the data folder to keep them short.
    monkeypatch.chdir(SPECS)


def test_every_bad_case_has_its_expected_output() -> None:
    cases = {c.removesuffix(".yaml") for c in BAD_CASES}
    outputs = {p.stem for p in SPECS.glob("bad-*.expected")}
    assert cases == outputs
    assert len(cases) >= 25


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_case(case: str) -> None:
    assert problems_of([case]) == expected_lines(case)


def test_all_problems_of_all_files_come_out_in_one_run() -> None:
    cases = [
        "bad-types.yaml",
        "bad-yaml-syntax.yaml",
        "missing.yaml",
        "bad-range.yaml",
        "bad-empty.yaml",
        "bad-database-name.yaml",
        "bad-alias-bomb.yaml",
        "bad-version.yaml",
    ]
    wanted = [
        line
        for case in cases
        for line in (
            ["missing.yaml: no such file or directory"]
            if case == "missing.yaml"
            else expected_lines(case)
        )
    ]
    assert len(wanted) > 25
    assert problems_of(cases) == wanted


def test_problems_across_folders_name_both_places() -> None:
    assert problems_of(["bad-prune-conflict", "bad-duplicate-database-across-files"]) == [
        "bad-prune-conflict/b.yaml:7:12: subscriptions[1].prune: conflicting prune for "
        "subscription 2001234: true here, false at bad-prune-conflict/a.yaml:4:12",
        "bad-duplicate-database-across-files/platform.yaml:5:15: subscriptions[0].databases[0]"
        ".name: database 'cache' is defined twice: here and at bad-prune-conflict/b.yaml:5:15",
        "bad-duplicate-database-across-files/platform.yaml:6:15: subscriptions[0].databases[1]"
        ".name: database 'sessions' is defined twice: here and at bad-prune-conflict/a.yaml:6:15",
        "bad-duplicate-database-across-files/sessions.yaml:5:15: subscriptions[0].databases[0]"
        ".name: database 'sessions' is defined twice: here and at bad-prune-conflict/a.yaml:6:15",
    ]


def test_a_path_that_does_not_exist() -> None:
    assert problems_of(["nope.yaml", "nope/"]) == [
        "nope.yaml: no such file or directory",
        "nope/: no such file or directory",
    ]


def test_a_single_path_string_is_one_path() -> None:
    assert load_spec("good-tree/z-last.yaml", {}).files == ("good-tree/z-last.yaml",)


def test_no_path_at_all() -> None:
    assert problems_of([]) == ["(command line): no spec path given"]


def test_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.txt").write_text("x")
    assert problems_of([str(tmp_path)]) == [f"{tmp_path}: no spec files (*.yaml, *.yml) here"]


def test_a_folder_without_spec_files() -> None:
    assert problems_of(["no-specs"]) == [
        "no-specs: no spec files here: 1 YAML file(s) without 'version' or 'subscriptions' were "
        "skipped"
    ]


def test_a_folder_whose_only_spec_is_broken_reports_just_that(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text("account: {}\n")
    (tmp_path / "spec.yaml").write_text("version: 1\nsubscriptions: [\n")
    assert problems_of([str(tmp_path)]) == [
        f"{tmp_path}/spec.yaml:3:1: invalid YAML: did not find expected node content (while "
        "parsing a flow node)"
    ]


def test_a_folder_walk_still_reports_empty_and_non_mapping_files(tmp_path: Path) -> None:
    # Skipping them could silently drop a spec's databases (with prune on: delete them).
    (tmp_path / "a.yaml").write_text("")
    (tmp_path / "b.yaml").write_text("- version: 1\n")
    (tmp_path / "c.yaml").write_text("version: 1\nsubscriptions: []\n")
    assert problems_of([str(tmp_path)]) == [
        f"{tmp_path}/a.yaml: file is empty",
        f"{tmp_path}/b.yaml:1:1: the top level must be a mapping with 'version' and "
        "'subscriptions', not a list",
    ]


def test_a_file_named_explicitly_is_always_read_as_a_spec() -> None:
    assert problems_of(["no-specs/other.yaml"]) == [
        "no-specs/other.yaml:1:1: missing required field 'subscriptions'",
        "no-specs/other.yaml:1:1: missing required field 'version'",
        "no-specs/other.yaml:1:1: kind: unknown field 'kind'",
    ]


def test_folder_walk_sorts_and_skips_hidden_and_non_spec_files() -> None:
    state = load_spec(["good-tree"], {})
    assert state.files == (
        "good-tree/prod/a-first.yml",
        "good-tree/prod/b-second.yaml",
        "good-tree/z-last.yaml",
    )
    summary = [(s.id, s.prune, [d.name for d in s.databases]) for s in state.subscriptions]
    assert summary == [
        (2001234, False, ["first", "second", "last"]),
        (2005678, True, ["staging-one"]),
    ]


@pytest.mark.parametrize(
    "paths",
    [
        ["good-tree", "good-tree/z-last.yaml"],
        ["good-tree/z-last.yaml", "good-tree", "./good-tree/z-last.yaml"],
        ["good-tree", "good-tree/prod/"],
    ],
)
def test_a_file_reached_twice_is_read_once(paths: list[str]) -> None:
    state = load_spec(paths, {})
    assert sorted(os.path.normpath(f) for f in state.files) == [
        "good-tree/prod/a-first.yml",
        "good-tree/prod/b-second.yaml",
        "good-tree/z-last.yaml",
    ]


def test_file_order_follows_the_paths_given() -> None:
    state = load_spec(["good-tree/z-last.yaml", "good-tree/prod"], {})
    names = [d.name for d in state.subscriptions[0].databases]
    assert names == ["last", "first", "second"]


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    spec = tmp_path / "bom.yaml"
    spec.write_bytes(b"\xef\xbb\xbfversion: 1\nsubscriptions: []\n")
    assert load_spec([str(spec)], {}).subscriptions == ()


def test_an_oversized_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 1024 * 1024)
    spec = tmp_path / "big.yaml"
    spec.write_text("version: 1\nsubscriptions: []\n" + "#" * (1024 * 1024) + "\n")
    assert problems_of([str(spec)]) == [
        f"{spec}: file is larger than 1 MiB; a spec must be smaller"
    ]


def test_an_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "locked.yaml"
    spec.write_text("version: 1\n")

    def refuse(path: str, flags: int) -> int:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(loader.os, "open", refuse)
    assert problems_of([str(spec)]) == [f"{spec}: cannot read: Permission denied"]


def test_an_unexpected_error_becomes_a_located_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(text: str, file: str, environ: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(loader, "read_document", explode)
    assert problems_of(["good-tree/z-last.yaml", "bad-version.yaml"]) == [
        "good-tree/z-last.yaml: unexpected error while reading this file: RuntimeError: boom",
        "bad-version.yaml: unexpected error while reading this file: RuntimeError: boom",
    ]


def test_an_unexpected_error_while_merging(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(files: object) -> None:
        raise KeyError("x")

    monkeypatch.setattr(merge, "check", explode)
    assert problems_of(["good-tree/z-last.yaml"]) == [
        "good-tree/z-last.yaml: unexpected error while merging spec files: KeyError: 'x'"
    ]


def test_an_unexpected_error_while_building(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(subscriptions: object, files: object) -> None:
        raise ValueError("bad")

    monkeypatch.setattr(merge, "build", explode)
    assert problems_of(["good-tree/z-last.yaml"]) == [
        "good-tree/z-last.yaml: unexpected error while merging spec files: ValueError: bad"
    ]


def test_problems_are_structured() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(["bad-enum.yaml"], {})
    first = caught.value.problems[0]
    assert first == SpecProblem(
        "bad-enum.yaml",
        6,
        19,
        "subscriptions[0].databases[0].protocol",
        "'http' is not one of ['redis', 'memcached']",
    )


def test_a_generated_500_database_spec_loads(tmp_path: Path) -> None:
    # Timing lives in bench/bench_validate.py; here only that the generated spec is valid.
    module_spec = importlib.util.spec_from_file_location("bench_validate", BENCH)
    assert module_spec is not None and module_spec.loader is not None
    bench = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(bench)
    spec = tmp_path / "big.yaml"
    spec.write_text(bench.generate(500))
    state = load_spec([str(spec)], {"DB_PASSWORD": "x"})
    assert sum(len(s.databases) for s in state.subscriptions) == 500
    assert len(state.subscriptions) == 5


def test_walk_skips_symlinked_folders_loops(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "s.yaml").write_text("version: 1\nsubscriptions: []\n")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    assert load_spec([str(tmp_path)], {}).files == (str(tmp_path / "a" / "s.yaml"),)


NOT_REGULAR = "not a regular file: it is {}; a spec must be a plain YAML file"


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.yaml")
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "d" / "y.yaml")
    assert problems_of([str(tmp_path / "x.yaml"), str(tmp_path / "d")]) == [
        f"{tmp_path / 'x.yaml'}: " + NOT_REGULAR.format("a named pipe (FIFO)"),
        f"{tmp_path / 'd' / 'y.yaml'}: " + NOT_REGULAR.format("a named pipe (FIFO)"),
    ]


def test_a_device_is_refused_without_reading() -> None:
    assert problems_of(["/dev/zero"]) == ["/dev/zero: " + NOT_REGULAR.format("a character device")]


def test_a_symbolic_link_loop(tmp_path: Path) -> None:
    os.symlink("loop.yaml", tmp_path / "loop.yaml")
    expected = [f"{tmp_path / 'loop.yaml'}: cannot read: symbolic link loop"]
    assert problems_of([str(tmp_path / "loop.yaml")]) == expected
    assert problems_of([str(tmp_path)]) == expected


def test_a_folder_named_like_a_spec_file(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").mkdir()
    assert problems_of([str(tmp_path / "x.yaml")]) == [
        f"{tmp_path / 'x.yaml'}: a folder, not a spec file, holding no spec files (*.yaml, *.yml)"
    ]


def test_the_size_cap_is_ten_mebibytes(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    with spec.open("wb") as handle:
        handle.truncate(10 * 1024 * 1024 + 1)
    assert loader.MAX_FILE_BYTES == 10 * 1024 * 1024
    assert problems_of([str(spec)]) == [
        f"{spec}: file is larger than 10 MiB; a spec must be smaller"
    ]
