"""``larq-compute convert`` on a .keras file and on a float .tflite."""

import re

import keras

from larq_compute import cli

from . import models


def test_convert_keras_file_with_report_and_ir(tmp_path, capsys):
    keras.utils.set_random_seed(2)
    source = tmp_path / "model.keras"
    models.sequential_model().save(source)
    output = tmp_path / "model.tflite"
    assert cli.main(["convert", str(source), "-o", str(output), "--report", "--dump-ir"]) == 0
    out = capsys.readouterr().out
    assert output.read_bytes()[4:8] == b"TFL3"
    assert "LceBconv2d(" in out  # the IR dump
    # Keras numbers layer names per process, so match the name's stem only.
    assert re.search(r"quant_dense_\d+ +LceBFullyConnected +binary: dense 64->10, float output", out)
    assert f"wrote {output}: 5 binary layers, 1 float layers" in out

    # A .tflite input runs the passes alone; on a converted model they have nothing left to do.
    again = tmp_path / "again.tflite"
    assert cli.main(["convert", str(output), "-o", str(again)]) == 0
    assert again.read_bytes() == output.read_bytes()


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["convert", str(tmp_path / "nope.keras"), "-o", str(tmp_path / "x.tflite")]) == 1
    assert "does not exist" in capsys.readouterr().err
