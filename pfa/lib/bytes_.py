"""bytes.*: byte-array access, encoding checks, codecs, base64."""
from __future__ import annotations

import base64
import binascii

from ..errors import PFARuntimeError
from . import fn, typed

fn("bytes.len")(len)
fn("bytes.subseq")(lambda x, start, end: x[start:end])


@typed("bytes.subseqto")
def subseqto(call):
    rt = call.rt

    def f(x, start, end, replacement):
        rt.check_size(len(x) + len(replacement), "bytes")
        b = bytearray(x)
        b[start:end] = replacement
        return bytes(b)
    return f


_CODECS = {"Ascii": "ascii", "Latin1": "latin-1", "Utf8": "utf-8", "Utf16": "utf-16",
           "Utf16be": "utf-16-be", "Utf16le": "utf-16-le"}


def _valid(codec):
    @typed(f"bytes.is{codec}")
    def build(call):
        enc = _CODECS[codec]
        if call.params[0].kind == "string":
            def s(x):
                try:
                    x.encode(enc)
                    return True
                except UnicodeEncodeError:
                    return False
            return s

        def b(x):
            try:
                x.decode(enc)
                return True
            except UnicodeDecodeError:
                return False
        return b


for _i, _codec in enumerate(_CODECS):
    _valid(_codec)

    def _dec(x, enc=_CODECS[_codec], code=16090 + 10 * _i, name=f"bytes.decode{_codec}"):
        try:
            return x.decode(enc)
        except UnicodeDecodeError:
            raise PFARuntimeError("invalid bytes", code, name) from None
    fn(f"bytes.decode{_codec}")(_dec)

    def _enc(s, enc=_CODECS[_codec], code=16150 + 10 * _i, name=f"bytes.encode{_codec}"):
        try:
            return s.encode(enc)
        except UnicodeEncodeError:
            raise PFARuntimeError("invalid string", code, name) from None
    fn(f"bytes.encode{_codec}")(_enc)

fn("bytes.toBase64")(lambda x: base64.b64encode(x).decode("ascii"))


@fn("bytes.fromBase64")
def from_base64(s):
    try:
        return base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise PFARuntimeError("invalid base64", 16220, "bytes.fromBase64") from None
