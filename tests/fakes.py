"""Fake package files the cache tests feed to the real extraction code."""

import io
import tarfile

__all__ = ["fake_deb"]


def ar_archive(members):
    """An ar archive of ``members`` ((name, bytes) pairs), as Debian packages are."""
    out = b"!<arch>\n"
    for name, data in members:
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        out += data + (b"\n" if len(data) % 2 else b"")
    return out


def fake_deb(files):
    """A Debian package (an ar archive) whose data.tar.xz holds ``files`` (name: bytes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return ar_archive([("debian-binary", b"2.0\n"), ("control.tar.xz", b"odd"),
                       ("data.tar.xz", buf.getvalue())])
