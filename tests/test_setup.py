"""Issue 3: the CLI surface, lazy imports, and the bundled-model assembly."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from trialqa.cli import cli
from trialqa.errors import ModelUnavailable
from trialqa.models import assemble, part_paths, resolve_gguf
from trialqa.settings import BUNDLED_GGUF_SHA256, Settings

COMMANDS = ["ingest", "index", "search", "ask", "eval", "chat", "model"]


def test_help_lists_every_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_text(name):
    cmd = cli.get_command(None, name)  # commands load lazily
    assert cmd.help and "not written" not in cmd.help.lower()
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_import_is_light():
    code = (
        "import sys, trialqa, trialqa.cli; "
        "heavy = [m for m in ('torch', 'faiss', 'llama_cpp', 'gradio', 'sentence_transformers') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported by `import trialqa`: {out.stdout}"


def test_ask_loads_only_its_own_command():
    """`trialqa ask` does not import the parsers, the eval harness or the chat UI."""
    code = (
        "import sys, trialqa.cli as c; c.cli.get_command(None, 'ask'); "
        "print(','.join(m for m in ('trialqa.parse', 'trialqa.evals', 'trialqa.ui', 'rich', 'lxml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"loaded for `trialqa ask`: {out.stdout}"


def test_assembly_verifies_checksum(tmp_path: Path):
    parts = []
    for i, data in enumerate([b"GGUF" + b"a" * 100, b"b" * 50]):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(data)
        parts.append(p)
    import hashlib

    good = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
    out = assemble(parts, tmp_path / "cache" / "m.gguf", good)
    assert out.read_bytes().startswith(b"GGUF")
    parts[1].write_bytes(b"c" * 50)  # a corrupted chunk
    with pytest.raises(ModelUnavailable, match="corrupt"):
        assemble(parts, tmp_path / "cache" / "m2.gguf", good)
    assert not (tmp_path / "cache" / "m2.gguf").exists()


def test_corrupted_copy_of_real_chunk_is_rejected(tmp_path: Path):
    """A temporary copy of the real first chunk with one flipped byte fails the real checksum."""
    try:
        first = part_paths()[0]
    except ModelUnavailable:
        pytest.skip("model packages not installed")
    data = bytearray(first.read_bytes()[: 1 << 20])
    data[1000] ^= 0xFF
    bad = tmp_path / "part01.bin"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailable, match="sha256"):
        assemble([bad], tmp_path / "out.gguf", BUNDLED_GGUF_SHA256)


def test_missing_model_gives_clear_error(tmp_path: Path):
    settings = Settings(model=tmp_path / "nope.gguf")
    with pytest.raises(ModelUnavailable) as err:
        resolve_gguf(None, settings)
    msg = str(err.value)
    assert "nope.gguf" in msg and "TRIALQA_MODEL" in msg and "\n" not in msg


def test_missing_model_cli_is_one_line(tmp_path: Path):
    env = {"TRIALQA_MODEL": str(tmp_path / "missing.gguf")}
    result = CliRunner().invoke(cli, ["model", "path"], env=env)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [l for l in result.output.splitlines() if l.strip()]
    assert len(lines) == 1 and "missing.gguf" in lines[0]


def test_non_gguf_model_rejected(tmp_path: Path):
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="not a GGUF"):
        resolve_gguf(bad, Settings())


@pytest.mark.parametrize(("code", "expected"), [
    ("import os, signal; os.kill(os.getpid(), signal.SIGILL)", r"crashed \(SIGILL\).*LLAMA_REBUILD=1"),
    ("import sys; sys.exit('cannot map the tensors')", "cannot run .*cannot map the tensors"),
])
def test_model_check_turns_a_crashing_llama_into_one_line(monkeypatch, tmp_path: Path, code, expected):
    """A child that dies (an illegal instruction in llama.cpp) or fails is one ModelUnavailable line."""
    import trialqa.models as models

    monkeypatch.setattr(models, "_CHECK_CODE", code)
    with pytest.raises(ModelUnavailable, match=expected) as err:
        models.check_runs(tmp_path / "m.gguf")
    assert "\n" not in str(err.value)


def test_model_defaults_sets_a_field_for_one_construction_only():
    """`use_extra_bufts` (no Llama() argument) is set on the defaults while loading, then restored."""
    lib = pytest.importorskip("llama_cpp.llama_cpp")
    from trialqa.generate import _model_defaults

    if "use_extra_bufts" not in {name for name, _ in lib.llama_model_params._fields_}:
        pytest.skip("this llama-cpp-python has no use_extra_bufts")
    before = lib.llama_model_default_params().use_extra_bufts
    with _model_defaults(use_extra_bufts=not before, no_such_field=1):
        assert lib.llama_model_default_params().use_extra_bufts is (not before)
    assert lib.llama_model_default_params().use_extra_bufts is before


@pytest.mark.integration
def test_bundled_model_runs_in_llama_cpp():
    """`trialqa model check`: the real GGUF is loaded and evaluated in a child process."""
    result = CliRunner().invoke(cli, ["model", "check"])
    assert result.exit_code == 0, result.output
    assert re.search(r"prompt [\d.]+ tokens/s, generation [\d.]+ tokens/s", result.output)
