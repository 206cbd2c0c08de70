"""A bank transfer slip's photo: checked to be an image, and its verification QR read for the bank's reference."""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from core.errors import InvalidInput, Msg
from pricing.promptpay import slip_reference

MAX_SLIP_BYTES = 5 * 1024 * 1024
MAX_SLIP_PIXELS = 40_000_000  # a phone photo is ~12 MP; more is not a slip
_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True)
class Slip:
    data: bytes
    content_type: str
    bank_ref: str | None  # None: no readable slip QR, the treasurer checks it by eye


def _refused() -> InvalidInput:
    return InvalidInput(Msg("The slip must be a photo (JPEG, PNG or WebP) of at most 5 MB.", "slip_not_image"),
                        {"slip": [Msg("Not a photo of at most 5 MB.", "slip_not_image")]})


def read_slip(data: bytes) -> Slip:
    """The slip as kept, with the reference from its QR when one is readable."""
    import zxingcpp

    if not data or len(data) > MAX_SLIP_BYTES:
        raise _refused()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            if kind not in _TYPES or probe.width * probe.height > MAX_SLIP_PIXELS:
                raise _refused()
            image = probe.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise _refused() from exc
    for found in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)):
        ref = slip_reference(found.text)
        if ref is not None:
            return Slip(data, _TYPES[kind], ref.bank_ref)
    return Slip(data, _TYPES[kind], None)
