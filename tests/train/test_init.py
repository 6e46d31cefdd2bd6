"""tunebook.train: schedules and seeds without torch; torch names load lazily, or name the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import tunebook.train

BLOCK_TORCH = textwrap.dedent("""
    import sys
    class _NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError("No module named 'torch'")
    sys.meta_path.insert(0, _NoTorch())
""")


def run_python(*pieces: str) -> subprocess.CompletedProcess:
    code = "\n".join(textwrap.dedent(piece) for piece in pieces)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_importing_the_package_does_not_import_torch():
    result = run_python("""
        import sys
        import tunebook.train
        from tunebook.train import schedule_from_params, Seeds
        schedule = schedule_from_params({"schedule": "cosine", "learning_rate": 0.1, "max_train_steps": 10})
        print(schedule(5), "torch" in sys.modules)
    """)
    assert result.returncode == 0, result.stderr
    rate, torch_imported = result.stdout.split()
    assert float(rate) == pytest.approx(0.05) and torch_imported == "False"


def test_without_torch_schedules_and_seeds_work_and_torch_names_name_the_extra():
    result = run_python(BLOCK_TORCH, """
        import tunebook.train as train
        from tunebook.core.errors import MissingExtraError
        print(train.with_warmup(train.Constant(1.0, 4), 2)(1), train.Seeds.for_host(1, 0).init > 0)
        for name in ("Adam", "lr_scheduler", "clip_grad_norm", "GhostBatchNorm2d"):
            try:
                getattr(train, name)
            except MissingExtraError as exc:
                print(name, exc)
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "0.5 True"
    assert len(lines) == 5
    for line in lines[1:]:
        assert "needs the 'torch' package: pip install 'tunebook[train]'" in line


def test_every_public_name_resolves():
    for name in tunebook.train.__all__:
        assert getattr(tunebook.train, name) is not None
    assert set(tunebook.train.__all__) <= set(dir(tunebook.train))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'AdamW'"):
        tunebook.train.AdamW  # noqa: B018
