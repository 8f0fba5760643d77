"""sd.batch: files through copies of one chain, on threads, processes and a real Dask cluster."""

import concurrent.futures
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile

import streamdsp as sd
from _support import python_env, TESTS_DIR

RATE = 8000
TAPS = np.hanning(31) / np.hanning(31).sum()


def make_chain():
    return sd.FIR(TAPS) >> sd.SavitzkyGolay(11, 3, mode="nearest") >> sd.Gain(0.5)


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(4)
    paths = []
    for k, frames in enumerate([1, 5000, 12345, 40000, 3]):
        p = tmp_path / "in" / f"rec{k}.wav"
        p.parent.mkdir(exist_ok=True)
        soundfile.write(p, (0.3 * rng.standard_normal((frames, 2))).astype(np.float32), RATE,
                        subtype="FLOAT")
        paths.append(str(p))
    return paths


def expected(path, tail=False):
    """The same chain over the whole file, in one process, in float32 (the oracle)."""
    x, _ = soundfile.read(path, dtype="float32", always_2d=True)
    chain = make_chain()
    if tail:
        x = np.concatenate([x, np.zeros((chain.tail_frames, x.shape[1]), np.float32)])
    return np.concatenate([chain.process(x), chain.flush()])


def check_outputs(res, paths, out_dir, tail=False):
    for p in paths:
        rec = res[p]
        assert rec["status"] == "done", rec
        assert rec["output"] == os.path.join(out_dir, os.path.basename(p))
        y, rate = soundfile.read(rec["output"], dtype="float32", always_2d=True)
        ref = expected(p, tail)
        assert rate == RATE and rec["frames"] == len(ref) and rec["latency"] == make_chain().latency
        np.testing.assert_array_equal(y, ref)
        assert rec["error"] is None and rec["seconds"] > 0


def test_threads_by_default_write_every_output_exactly(files, tmp_path):
    out = str(tmp_path / "out")
    res = sd.batch(make_chain(), files, out_dir=out, chunk_size=1000, progress=False, subtype="FLOAT")
    assert list(res) == files
    check_outputs(res, files, out)
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in files)   # no temporary left


def test_the_chain_given_is_copied_not_consumed(files, tmp_path):
    chain = make_chain()
    chain.process(np.ones(100, np.float32))      # mid-stream, mono: each file still starts fresh
    res = sd.batch(chain, files, out_dir=tmp_path / "out", progress=False, subtype="FLOAT")
    check_outputs(res, files, str(tmp_path / "out"))
    assert chain.channels == 1       # the caller's chain is untouched


def test_a_failing_file_is_recorded_and_the_others_go_on(files, tmp_path, capsys):
    bad = tmp_path / "in" / "broken.wav"
    bad.write_bytes(b"RIFF not really")
    mono = tmp_path / "in" / "mono.wav"       # other channels than the rest: each copy is fresh
    soundfile.write(mono, np.zeros(10, np.float32), RATE, subtype="FLOAT")
    inputs = files + [str(bad), str(mono)]
    res = sd.batch(make_chain(), inputs, out_dir=tmp_path / "out", subtype="FLOAT")
    assert res[str(bad)]["status"] == "failed" and "broken.wav" in res[str(bad)]["error"]
    assert not os.path.exists(res[str(bad)]["output"])
    assert res[str(mono)]["status"] == "done" and res[str(mono)]["frames"] == 10 + make_chain().latency
    check_outputs(res, files, str(tmp_path / "out"))
    err = capsys.readouterr().err
    assert f"[{len(inputs)}/{len(inputs)}]" in err and "broken.wav: failed" in err
    with pytest.raises(RuntimeError, match="batch: .*broken.wav"):
        sd.batch(make_chain(), [str(bad)], out_dir=tmp_path / "out2", on_error="raise", progress=False)


def test_a_second_run_skips_complete_outputs_and_redoes_missing_ones(files, tmp_path):
    out = str(tmp_path / "out")
    sd.batch(make_chain(), files, out_dir=out, progress=False, subtype="FLOAT")
    os.unlink(os.path.join(out, "rec3.wav"))
    before = os.stat(os.path.join(out, "rec4.wav")).st_mtime_ns
    res = sd.batch(make_chain(), files, out_dir=out, progress=False, subtype="FLOAT")
    assert [r["status"] for r in res.values()] == ["skipped"] * 3 + ["done", "skipped"]
    assert os.stat(os.path.join(out, "rec4.wav")).st_mtime_ns == before
    check_outputs({files[3]: res[files[3]]}, [files[3]], out)


def test_tail_and_a_chain_description(files, tmp_path):
    out = str(tmp_path / "out")
    res = sd.batch(make_chain(), files, out_dir=out, progress=False, subtype="FLOAT", tail=True)
    check_outputs(res, files, out, tail=True)
    res = sd.batch("gain:-6dB | delay:3", files[2:3], out_dir=tmp_path / "o2", progress=False,
                   subtype="FLOAT")
    y, _ = soundfile.read(res[files[2]]["output"], dtype="float32", always_2d=True)
    x, _ = soundfile.read(files[2], dtype="float32", always_2d=True)
    ref = sd.Pipeline(sd.Gain(10 ** (-6 / 20)), sd.Delay(3))
    np.testing.assert_array_equal(y, np.concatenate([ref.process(x), ref.flush()]))


def test_a_process_pool_executor(files, tmp_path):
    with concurrent.futures.ProcessPoolExecutor(2) as ex:
        res = sd.batch(make_chain(), files, out_dir=tmp_path / "out", executor=ex, progress=False,
                       subtype="FLOAT")
    check_outputs(res, files, str(tmp_path / "out"))


def test_a_dask_cluster_of_two_worker_processes(files, tmp_path, dask_client):
    res = sd.batch(make_chain(), files, out_dir=tmp_path / "out", client=dask_client, progress=False,
                   subtype="FLOAT")
    check_outputs(res, files, str(tmp_path / "out"))
    assert len(dask_client.scheduler_info()["workers"]) == 2


def test_bad_arguments_are_refused_before_any_work(files, tmp_path):
    twin = tmp_path / "other" / "rec0.wav"
    twin.parent.mkdir()
    twin.write_bytes(open(files[0], "rb").read())
    with pytest.raises(ValueError, match="batch: expected inputs with different names"):
        sd.batch(make_chain(), [files[0], str(twin)], out_dir=tmp_path / "out")
    with pytest.raises(TypeError, match="batch: expected a streamdsp block"):
        sd.batch(42, files, out_dir=tmp_path / "out")
    with pytest.raises(ValueError, match="on_error"):
        sd.batch(make_chain(), files, out_dir=tmp_path / "out", on_error="ignore")
    with pytest.raises(sd.ChainSyntaxError):
        sd.batch("nosuchblock:1", files, out_dir=tmp_path / "out")
    assert not os.path.exists(tmp_path / "out")


def test_the_cli_runs_a_batch(files, tmp_path):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "streamdsp", "batch", "gain:0.5", *files, "--out-dir", str(out),
                        "--workers", "2"], cwd=TESTS_DIR, env=python_env(), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in files)
    y, _ = soundfile.read(out / "rec2.wav", dtype="float32", always_2d=True)
    x, _ = soundfile.read(files[2], dtype="float32", always_2d=True)
    np.testing.assert_allclose(y, 0.5 * x, atol=1e-4)     # the default subtype (PCM_16) rounds
    assert "5 done" in r.stdout
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"nope")
    r = subprocess.run([sys.executable, "-m", "streamdsp", "batch", "gain:0.5", str(bad), "--out-dir",
                        str(out)], cwd=TESTS_DIR, env=python_env(), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 1 and "bad.wav: failed" in r.stderr
