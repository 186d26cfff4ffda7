"""Kaldi-style acoustic features: 40-dim log-mel filterbanks (25 ms window, 10 ms shift,
``kaldi-native-fbank``, Kaldi's own defaults otherwise) spliced over 9 frames (t-4 .. t+4),
the 360 inputs of the paper's Kaldi MLP (Table I)."""

import numpy as np

__all__ = ["fbank", "splice"]


def fbank(audio, sample_rate=16000, bins=40):
    """(frames, bins) log-mel energies of a waveform in [-1, 1)."""
    import kaldi_native_fbank as knf
    opts = knf.FbankOptions()
    opts.frame_opts.samp_freq = sample_rate
    opts.frame_opts.dither = 0.0            # deterministic features
    opts.mel_opts.num_bins = bins
    extractor = knf.OnlineFbank(opts)
    # Kaldi reads 16-bit samples as integers: scale back to that range
    extractor.accept_waveform(sample_rate, (np.asarray(audio, dtype=np.float32) * 32768.0).tolist())
    extractor.input_finished()
    return np.array([extractor.get_frame(i) for i in range(extractor.num_frames_ready)])


def splice(features, context=4):
    """Each frame with ``context`` frames either side (edges repeated), concatenated."""
    f = np.asarray(features)
    padded = np.concatenate([np.repeat(f[:1], context, 0), f, np.repeat(f[-1:], context, 0)])
    return np.concatenate([padded[k:k + len(f)] for k in range(2 * context + 1)], axis=1)
