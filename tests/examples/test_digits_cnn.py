"""The digits CNN example (examples/digits_cnn): shapes, arguments, and that it really learns the digits."""

from __future__ import annotations

import pytest

from tests.analysis.corpus.runs import train_run

torch = pytest.importorskip("torch")


def _cnn():
    from tests.analysis.corpus.runs import _example

    return _example("digits_cnn")


def test_the_cnn_takes_flat_pixels_or_images_and_gives_ten_logits():
    model = _cnn().build_model(channels=4, dropout=0.2)
    flat, images = torch.zeros(5, 64), torch.zeros(5, 1, 8, 8)
    assert model(flat).shape == (5, 10) and model(images).shape == (5, 10)


@pytest.mark.parametrize("kwargs, message", [({"channels": 0}, "channels must be >= 1, got 0"),
                                             ({"dropout": 1.0}, "dropout must be in [0, 1), got 1.0")])
def test_bad_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        _cnn().build_model(**kwargs)


def test_a_short_adam_run_learns_the_digits():
    curves = train_run({"model": "cnn", "steps": 150, "eval_every": 50, "log_every": 10})
    steps, error = curves["valid/error"]
    assert list(steps) == [50, 100, 150]
    assert error[-1] < 0.3  # chance is 0.9; 150 Adam steps reach well under 0.3
    assert curves["train/loss"][1][-1] < curves["train/loss"][1][0]
