"""The cache's manifest and its writes: every file the cache holds is recorded in
``manifest.json`` (in the cache directory) with its SHA-256 and size, and every file, the
manifest included, is written atomically.

An atomic write goes to a temporary file in the same directory, is flushed to disk (fsync)
and renamed over the final name (``os.replace``), so a reader sees the old file or the new
one, never a part. The manifest is read-modified-written under a lock (``.lock`` in the cache
directory) that every process of the user shares, together with the files it records.

A file is hashed at most once per process (:func:`file_sha256` remembers the digest with the
file's size, times and inode, and hashes again only when one of them changed).
"""

import contextlib
import hashlib
import json
import os
import pathlib
import tempfile

try:
    import fcntl
except ImportError:                 # not on Windows: no lock there
    fcntl = None

__all__ = ["MANIFEST", "sha256_file", "file_sha256", "temporary_beside", "install", "locked",
           "atomic_write", "load", "record"]

MANIFEST = "manifest.json"
FORMAT = 1

_hashed = {}            # str(path) -> (stat key, sha256): the files hashed by this process
_loaded = {}            # str(manifest path) -> (stat key, entries)


def _key(st):
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def sha256_file(path):
    """SHA-256 (hex) of the file ``path``, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path):
    """SHA-256 of ``path``, hashed once per process: again only when the file's size,
    modification or change time or inode differ from when it was hashed."""
    key = _key(os.stat(path))
    known = _hashed.get(str(path))
    if known is not None and known[0] == key:
        return known[1]
    digest = sha256_file(path)
    if _key(os.stat(path)) == key:         # unchanged while it was read
        _hashed[str(path)] = (key, digest)
    return digest


@contextlib.contextmanager
def temporary_beside(final):
    """A temporary file's path in ``final``'s directory (hidden, ``.<name>.*.tmp``), removed
    on the way out unless :func:`install` renamed it into place."""
    final = pathlib.Path(final)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    os.close(fd)
    tmp = pathlib.Path(tmp)
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _fsync_dir(directory):
    with contextlib.suppress(OSError):      # not every file system lets a directory be synced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def install(tmp, final):
    """Flush ``tmp`` to disk and rename it over ``final`` (same directory)."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    _fsync_dir(pathlib.Path(final).parent)


def atomic_write(final, data):
    """Write ``data`` (str or bytes) to ``final`` atomically."""
    final = pathlib.Path(final)
    with temporary_beside(final) as tmp:
        if isinstance(data, str):
            tmp.write_text(data)
        else:
            tmp.write_bytes(data)
        install(tmp, final)


@contextlib.contextmanager
def locked(directory):
    """Hold the lock of the cache ``directory`` (shared by every process of the user)."""
    with open(pathlib.Path(directory) / ".lock", "a") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def load(directory, fresh=False):
    """``{name: {"sha256", "size", "mtime_ns"}}`` of the manifest in ``directory`` (names are
    relative, with ``/``); empty when there is none or it cannot be read as one (then every
    file is checked again against its pinned digest, or produced again)."""
    path = pathlib.Path(directory) / MANIFEST
    try:
        key = _key(path.stat())
    except OSError:
        return {}
    known = _loaded.get(str(path))
    if known is not None and known[0] == key and not fresh:
        return known[1]
    try:
        files = json.loads(path.read_bytes())["files"]
        entries = {str(n): {"sha256": str(e["sha256"]), "size": int(e["size"]),
                            "mtime_ns": int(e.get("mtime_ns", 0))} for n, e in files.items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        entries = {}
    _loaded[str(path)] = (key, entries)
    return entries


def record(directory, files, moves=()):
    """Under the manifest lock: rename each ``(tmp, final)`` of ``moves`` into place
    (:func:`install`), then record ``files`` (``{name: sha256}``, names relative to
    ``directory``) with their sizes and modification times. Raises OSError when the cache
    cannot be written."""
    directory = pathlib.Path(directory)
    with locked(directory):
        for tmp, final in moves:
            install(tmp, final)
        entries = dict(load(directory, fresh=True))
        for name, digest in files.items():
            st = os.stat(directory / name)
            entries[name] = {"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            _hashed[str(directory / name)] = (_key(st), digest)
        text = json.dumps({"format": FORMAT, "files": entries}, indent=1, sort_keys=True)
        atomic_write(directory / MANIFEST, text + "\n")
    load(directory, fresh=True)
