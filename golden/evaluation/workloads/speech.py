"""Real recorded speech: the English prompts of Debian's ``asterisk-core-sounds-en-wav``
(CC-BY-SA-3.0, one speaker, 8 kHz 16-bit mono), resampled to 16 kHz for Silero VAD and
the filterbank front end."""

import wave

import numpy as np

from .cache import cached_file, debian_members

__all__ = ["asterisk_speech", "read_wav", "resample_2x", "speech_sequence"]

ASTERISK_DEB = "pool/main/a/asterisk-core-sounds/asterisk-core-sounds-en-wav_1.6.1-1_all.deb"
ASTERISK_SHA256 = "2be3ea287d83299d143815fa804f11179a75b7affd4a758b98b55f5afc18a35d"
# the extracted WAVs' digest (cache.tree_sha256): checks a directory extracted before the manifest
ASTERISK_TREE_SHA256 = "68b034718dfe411a1e24d39531d9e802b3264f6d0d185c936a3b40b5bb6580ef"
SAMPLE_RATE = 16000


def read_wav(path):
    """(samples in [-1, 1), sample rate) of a 16-bit PCM WAV file; channels are averaged."""
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * w.getsampwidth()}-bit samples; only 16-bit PCM is read")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        data = data.reshape(-1, w.getnchannels()).mean(axis=1)
        return data / 32768.0, w.getframerate()


def _lowpass(taps=95):
    # windowed-sinc half-band filter: cut-off at the old Nyquist (4 kHz of 16 kHz)
    n = np.arange(taps) - (taps - 1) / 2
    h = 0.5 * np.sinc(n / 2) * np.blackman(taps)
    return h / h.sum()


def resample_2x(x):
    """Upsample by 2: zero stuffing then the half-band low-pass (gain 2 keeps the level)."""
    up = np.zeros(2 * len(x))
    up[::2] = x
    h = _lowpass()
    return 2 * np.convolve(up, h, mode="same")


def asterisk_speech():
    """The prompts of the Allison voice as a list of (name, 16 kHz samples), in name order."""
    files = debian_members(ASTERISK_DEB, ASTERISK_SHA256, "asterisk-core-sounds-en-wav", ".wav",
                           ASTERISK_TREE_SHA256)
    prompts = []
    for path in files:
        if not path.name.startswith("en_US_f_Allison__"):
            continue
        x, rate = read_wav(path)
        if rate != 8000:
            raise ValueError(f"{path}: {rate} Hz, expected 8000")
        prompts.append((path.name.split("__", 1)[1], resample_2x(x)))
    return prompts


def speech_sequence(seconds):
    """``seconds`` of 16 kHz real speech, cached as float32: the prompts back to back (in
    name order, repeated if more is asked than the 1,255 s recorded), with only the pauses
    the recordings contain. No silence is inserted: it would be trivially reusable input."""
    def produce(tmp):
        prompts = asterisk_speech()
        out, total, k = [], 0, 0
        need = int(seconds * SAMPLE_RATE)
        while total < need:
            x = prompts[k % len(prompts)][1]
            out.append(x)
            total += len(x)
            k += 1
        with tmp.open("wb") as f:            # a file object: np.save would append ".npy" to a name
            np.save(f, np.concatenate(out)[:need].astype(np.float32), allow_pickle=False)
    return np.load(cached_file(f"speech/asterisk_{int(seconds * 1000)}ms.npy", produce))
