"""Reading an ``.npz`` model file as untrusted input: nothing is inflated, allocated or handed to NumPy before
its declared size has been checked against what the caller expects.

``numpy.load`` trusts an archive: it inflates every member it is asked for (a 1.5 MB file of zeros becomes
1.6 GB), and ``read_array`` allocates the array a member's ``.npy`` header declares before reading a byte of
data (a 9 KB file raises ``MemoryError``). ``NpzReader`` instead

* opens only regular files, without blocking (a FIFO, a directory or ``/dev/zero`` is refused by ``open_regular``);
* refuses, before reading any member: duplicate or non-``.npy`` names, encrypted members, compression other than
  stored or deflate, a stored member whose two sizes differ, a deflated member that claims to inflate beyond
  deflate's largest possible ratio, and a member larger than the file that holds it;
* reads a member only when the caller names it, with the dtype kinds and the exact shape it expects and an upper
  bound on its size (``max_bytes``): the zip header's declared size is checked against the bound first, then the
  ``.npy`` header (at most 64 KiB) against the kinds, the shape and the declared size, and only then is the
  array allocated and filled; the member's CRC is checked at its end.

Errors: ``CorruptArchiveError`` (a ``ValueError``) for what the zip layer finds broken (not a zip archive, a bad
CRC, a truncated member), ``ValueError``/``TypeError`` naming the member for contents other than expected.
"""
from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib

import numpy as np

# Deflate emits at least 1 bit per 258 bytes of output in the best case (RFC 1951: a length-258 match coded
# in 1 bit plus its distance), so no valid deflate stream inflates more than ~1032 times; 1100 leaves margin.
_MAX_DEFLATE_RATIO = 1100
_NPY_MAGIC = b"\x93NUMPY"
_NPY_PREAMBLE = 10  # magic (6), version (2), header length (2) of a version 1.0 .npy file
_NPY_HEADER_MAX = 65535 + _NPY_PREAMBLE  # a version 1.0 header's length is a uint16
_CHUNK = 1 << 24  # bytes inflated per read while filling an array

# what the zip and zlib layers raise on a broken archive (RuntimeError: an encrypted member; struct.error and
# NotImplementedError: malformed or unsupported headers)
ZIP_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, struct.error, NotImplementedError, RuntimeError,
              UnicodeDecodeError, OverflowError)

_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


class CorruptArchiveError(ValueError):
    """The archive itself is broken: not a zip file, truncated, a CRC mismatch, a malformed header."""


def file_kind(mode):
    """``"a directory"``, ``"a FIFO (named pipe)"``, ... for an ``st_mode`` that is not a regular file."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def open_regular(name):
    """``name`` opened for binary reading, refusing anything but a regular file (``ValueError`` naming its kind).

    ``O_NONBLOCK``: opening a FIFO for reading would otherwise wait for a writer forever. The check is on the
    open descriptor (``fstat``), so the file cannot be swapped between the check and the read. A missing path
    raises ``FileNotFoundError`` as ``open`` does.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except IsADirectoryError:  # platforms that cannot open a directory
        raise ValueError(f"{name}: not a socialrec model file (a directory)") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"{name}: not a socialrec model file ({file_kind(mode)}, not a regular file)")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class NpzReader:
    """The members of an ``.npz`` archive (``names``: their names without ``.npy``), read one at a time."""

    def __init__(self, fh):
        fh.seek(0, io.SEEK_END)
        self.size = fh.tell()  # the archive's length in bytes: no stored member can be larger
        fh.seek(0)
        try:
            self._zip = zipfile.ZipFile(fh)
            infos = self._zip.infolist()
        except ZIP_ERRORS as e:
            raise CorruptArchiveError(str(e)) from None
        self._members = {}
        for info in infos:
            name = info.filename
            if not name.endswith(".npy"):
                raise ValueError(f"unexpected archive member {name!r} (a model file holds .npy arrays only)")
            if name[:-4] in self._members:
                raise ValueError(f"archive member {name!r} appears twice")
            self._check_sizes(info)
            self._members[name[:-4]] = info

    def _check_sizes(self, info):
        """The zip header's claims about a member, checked before anything is inflated."""
        name = info.filename
        if info.flag_bits & 0x1:
            raise ValueError(f"archive member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(f"archive member {name!r} uses compression method {info.compress_type} "
                             "(model files are stored or deflated)")
        if info.compress_size > self.size:
            raise CorruptArchiveError(f"archive member {name!r} claims {info.compress_size} bytes in a file "
                                      f"of {self.size}")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise CorruptArchiveError(f"stored archive member {name!r} declares two sizes "
                                      f"({info.file_size} and {info.compress_size} bytes)")
        if info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 1024:
            raise ValueError(f"archive member {name!r} claims to inflate {info.compress_size} bytes to "
                             f"{info.file_size} (more than deflate can; a decompression bomb or a corrupted file)")

    def close(self):
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def names(self):
        return set(self._members)

    def read(self, name, kinds, shape, max_bytes=None):
        """Member ``name`` (without ``.npy``) as an array of a dtype of ``kinds`` (NumPy kind letters, e.g.
        ``"iu"``) and exactly ``shape``; ``KeyError`` naming it when absent.

        ``max_bytes`` bounds the member's inflated size (its ``.npy`` header excluded): the caller's bound from
        the model's parameters, or ``None`` for members whose size depends on their content (the metadata,
        string ids), which may then not inflate beyond the size of the archive itself.
        """
        info = self._members.get(name)
        if info is None:
            raise KeyError(f"{name} (array missing from the file)")
        limit = (self.size if max_bytes is None else max_bytes) + _NPY_HEADER_MAX
        if info.file_size > limit:
            raise ValueError(f"{name} declares {info.file_size} bytes where the model's parameters allow at most "
                             f"{limit} (a decompression bomb or an inconsistent file)")
        try:
            with self._zip.open(info) as member:
                dtype, fortran, header, file_shape = self._header(member, name)
                _expect(name, dtype, file_shape, kinds, shape)
                count = int(np.prod(shape, dtype=object))
                if header + count * dtype.itemsize != info.file_size:
                    raise ValueError(f"{name} holds {info.file_size - header} bytes of data, its header "
                                     f"declares {count * dtype.itemsize}")
                out = np.empty(count, dtype=dtype)
                raw = out.view(np.uint8)  # the array's bytes, filled a chunk at a time
                for start in range(0, raw.size, _CHUNK):
                    chunk = member.read(min(_CHUNK, raw.size - start))
                    if len(chunk) != min(_CHUNK, raw.size - start):
                        raise CorruptArchiveError(f"{name} is truncated")
                    raw[start:start + len(chunk)] = np.frombuffer(chunk, np.uint8)
                if member.read(1):  # also the end of the stream, where zipfile compares the CRC
                    raise CorruptArchiveError(f"{name} is longer than its header declares")
        except ZIP_ERRORS as e:
            raise CorruptArchiveError(f"{name}: {e}") from None
        # a Fortran-ordered member is returned C-contiguous, as every array a model holds (the kernels expect it)
        return np.ascontiguousarray(out.reshape(shape, order="F")) if fortran else out.reshape(shape)

    @staticmethod
    def _header(member, name):
        """(dtype, fortran_order, header length, shape) of a ``.npy`` member, reading only its header."""
        pre = member.read(_NPY_PREAMBLE)
        if len(pre) != _NPY_PREAMBLE or pre[:6] != _NPY_MAGIC:
            raise ValueError(f"{name} is not a .npy array")
        if pre[6:8] != b"\x01\x00":  # what numpy.savez writes for every array a model holds
            raise ValueError(f"{name}: unsupported .npy format version {pre[6]}.{pre[7]}")
        length = int.from_bytes(pre[8:10], "little")
        text = member.read(length)
        if len(text) != length:
            raise CorruptArchiveError(f"{name} is truncated")
        try:
            file_shape, fortran, dtype = np.lib.format.read_array_header_1_0(io.BytesIO(pre[8:] + text))
        except (ValueError, SyntaxError, TypeError) as e:
            raise ValueError(f"{name}: malformed .npy header ({e})") from None
        return np.dtype(dtype), bool(fortran), _NPY_PREAMBLE + length, file_shape


def _expect(name, dtype, file_shape, kinds, shape):
    """The dtype and shape a member's header declares, against what the model needs (before any allocation).

    Byte order is free (the array is converted by the caller); structured, object and zero-size dtypes never
    are what a model holds."""
    if dtype.kind not in kinds or dtype.fields is not None or dtype.hasobject or dtype.itemsize == 0:
        raise TypeError(f"{name} has dtype {dtype}, expected {_kind_names(kinds)}")
    if tuple(file_shape) != tuple(shape):
        raise ValueError(f"{name} has shape {tuple(file_shape)}, expected {tuple(shape)}")


def _kind_names(kinds):
    names = {"i": "signed integers", "u": "unsigned integers", "f": "floats", "U": "strings"}
    return " or ".join(names[k] for k in kinds)
