"""Bad input to the CLI gets a clear error, exit code 2, and loses nothing."""

from __future__ import annotations

from typer.testing import CliRunner

from dd2prom.cli import app
from dd2prom.resources import sample_org_dir

runner = CliRunner()


def test_convert_refuses_to_replace_a_folder_it_did_not_write(tmp_path):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "important.txt").write_text("keep")
    r = runner.invoke(app, ["convert", str(sample_org_dir()), "--out", str(user)])
    assert r.exit_code == 2 and "did not write" in r.output
    assert (user / "important.txt").read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]     # no staging folder left


def test_convert_refuses_a_file_as_output(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    r = runner.invoke(app, ["convert", str(sample_org_dir()), "--out", str(f)])
    assert r.exit_code == 2 and "not a folder" in r.output
    assert f.read_text() == "x"


def test_convert_replaces_its_own_earlier_output(tmp_path):
    out = tmp_path / "out"
    for _ in range(2):
        r = runner.invoke(app, ["convert", str(sample_org_dir()), "--out", str(out)])
        assert r.exit_code in (0, 1), r.output
    assert (out / "coverage.json").is_file()


def test_only_the_process_entry_point_keeps_a_run_until_exit(tmp_path):
    """main() keeps the last convert run referenced until the process exits (a
    quicker exit); called from another program the CLI keeps nothing."""
    import subprocess
    import sys

    import dd2prom.cli as cli
    r = runner.invoke(app, ["convert", str(sample_org_dir()), "--out", str(tmp_path / "a")])
    assert r.exit_code in (0, 1) and cli._KEPT is None
    p = subprocess.run([sys.executable, "-m", "dd2prom", "convert", str(sample_org_dir()), "--out", str(tmp_path / "b")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode in (0, 1) and "items in coverage.json" in " ".join(p.stderr.split())
    assert (tmp_path / "a" / "coverage.json").read_bytes() == (tmp_path / "b" / "coverage.json").read_bytes()


def test_convert_of_a_folder_without_datadog_objects(tmp_path):
    r = runner.invoke(app, ["convert", str(tmp_path), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2 and "no Datadog objects" in r.output
    assert not (tmp_path / "out").exists()


def test_verify_of_a_folder_that_is_no_convert_output(tmp_path):
    r = runner.invoke(app, ["verify", str(tmp_path)])
    assert r.exit_code == 2 and "no coverage.json" in r.output


def test_report_refuses_to_replace_a_foreign_folder(tmp_path):
    out = tmp_path / "out"
    assert runner.invoke(app, ["convert", str(sample_org_dir()), "--out", str(out)]).exit_code in (0, 1)
    reports = tmp_path / "reports"
    (reports / "sample-org").mkdir(parents=True)
    (reports / "sample-org" / "notes.txt").write_text("keep")
    r = runner.invoke(app, ["report", str(sample_org_dir()), "--converted", str(out), "--out", str(reports)])
    assert r.exit_code == 2
    assert (reports / "sample-org" / "notes.txt").read_text() == "keep"


BROKEN_MAPPINGS = [("metrics: [1\n", "not valid YAML (line 2: "), ("tags: [a]\n", "'tags:' must be a YAML mapping"),
                   ("- a\n", "a mapping file is a YAML mapping")]


def test_a_broken_mappings_file_is_one_line_and_exit_2(tmp_path):
    for text, message in BROKEN_MAPPINGS:
        f = tmp_path / "m.yaml"
        f.write_text(text)
        for args in (["translate", "avg:a{*}"], ["convert", str(sample_org_dir()), "--out", str(tmp_path / "out")]):
            r = runner.invoke(app, [*args, "--mappings", str(f)])
            assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output, r.output
            assert not (tmp_path / "out").exists()


def test_convert_only_with_an_unknown_stage_writes_nothing(tmp_path):
    for only in ("monitor", "monitors,bogus", ","):
        r = runner.invoke(app, ["convert", str(sample_org_dir()), "--out", str(tmp_path / "out"), "--only", only])
        assert r.exit_code == 2 and "choose from checks, synthetics, monitors" in r.output, r.output
        assert not (tmp_path / "out").exists()


def test_convert_exits_1_when_an_item_failed_and_writes_the_rest(tmp_path):
    import shutil

    snap = tmp_path / "snap"
    shutil.copytree(sample_org_dir(), snap)
    (snap / "monitors" / "999.json").write_text("{bad")
    r = runner.invoke(app, ["convert", str(snap), "--out", str(tmp_path / "out")])
    assert r.exit_code == 1 and "1 with status error" in r.output, r.output
    assert (tmp_path / "out" / "prometheus" / "rules").is_dir()


def test_an_explicit_crd_dir_without_crds_is_a_usage_error(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["convert", str(sample_org_dir()), "--out", str(out), "--crd-dir", str(tmp_path)])
    assert r.exit_code == 2 and "holds no prometheus-operator CRDs" in r.output and not out.exists()
    assert runner.invoke(app, ["convert", str(sample_org_dir()), "--out", str(out)]).exit_code in (0, 1)
    r = runner.invoke(app, ["verify", str(out), "--crd-dir", str(tmp_path)])
    assert r.exit_code == 2 and "holds no prometheus-operator CRDs" in r.output


def test_compare_of_a_folder_that_is_no_convert_output(tmp_path):
    r = runner.invoke(app, ["compare", str(tmp_path), "--prometheus-url", "http://127.0.0.1:9"])
    assert r.exit_code == 2 and "no coverage.json" in r.output


def test_export_usage_errors_are_one_line(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for args, message in ((["--out", str(afile), "--from", str(tmp_path)], "is a file, not a snapshot folder"),
                          (["--out", str(tmp_path / "s"), "--id-file", str(tmp_path / "none")],
                           "--id-file " + str(tmp_path / "none"))):
        r = runner.invoke(app, ["export", *args, "--no-progress"], env={"DD_API_KEY": "k", "DD_APP_KEY": "a"})
        assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output, r.output
    assert afile.read_text() == "x"


def test_export_concurrency_0_is_refused_not_a_hang(tmp_path):
    for flag in ("--concurrency", "--usage-months"):
        r = runner.invoke(app, ["export", "--out", str(tmp_path / "s"), flag, "0", "--api-url", "http://127.0.0.1:9"],
                          env={"DD_API_KEY": "k", "DD_APP_KEY": "a"})
        assert r.exit_code == 2 and flag in r.output and not (tmp_path / "s").exists()
