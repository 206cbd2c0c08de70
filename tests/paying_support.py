"""Test helpers for paying: a combined round with invoices, slips drawn as PNG, QR decoded back."""
from __future__ import annotations

import base64
import io
from typing import Any

import segno
import zxingcpp
from PIL import Image

from pricing.promptpay import tlv, with_crc


def slip_payload(ref: str, bank: str = "014") -> str:
    """A bank slip's verification QR as Thai banks print it."""
    return with_crc(tlv("00", tlv("00", "000001") + tlv("01", bank) + tlv("02", ref)) + tlv("51", "TH"), "91")


def slip_png(text: str | None) -> str:
    """Base64 PNG of a 'slip': a white page with the QR of ``text`` (None: no QR at all)."""
    page = Image.new("RGB", (600, 900), "white")
    if text is not None:
        out = io.BytesIO()
        segno.make(text, error="m").save(out, kind="png", scale=6, border=4)
        page.paste(Image.open(io.BytesIO(out.getvalue())), (150, 500))
    buf = io.BytesIO()
    page.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def decode_svg_qr(svg: str) -> list[str]:
    """Decode a QR drawn as segno SVG (a path of horizontal runs) by rasterising it ourselves."""
    import re

    scale = int(re.search(r'transform="scale\((\d+)\)"', svg).group(1))  # type: ignore[union-attr]
    sized = re.search(r'width="(\d+)"', svg) or re.search(r'viewBox="0 0 (\d+)', svg)
    width = int(sized.group(1))  # type: ignore[union-attr]
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    size = width // scale
    image = Image.new("L", (size, size), 255)
    x = y = 0.0
    for cmd, a, b in re.findall(r"([Mmhv])(-?[\d.]+)(?:\s+|,)?(-?[\d.]+)?", path):
        if cmd == "M":
            x, y = float(a), float(b)
        elif cmd == "m":
            x, y = x + float(a), y + float(b)
        elif cmd == "h":
            run = float(a)
            for i in range(int(round(run))):
                image.putpixel((int(x) + i, int(y - 0.5)), 0)
            x += run
    big = image.resize((size * 8, size * 8), Image.Resampling.NEAREST)
    return [r.text for r in zxingcpp.read_barcodes(big)]


def combined_invoices(db_session: Any, make_network: Any, make_group: Any, make_user: Any, make_round: Any,
                      make_offer: Any, place_order: Any, token_for: Any, promptpay_id: str | None = "0812345678",
                      groups: int = 2) -> dict[str, Any]:
    """A combined round: each group ordered 12 units at 100.25 (1,203.00 each), invoices written."""
    from sqlalchemy import select

    from orders import combine
    from orders.models import BuyingRound, Invoice

    network = make_network()
    network.promptpay_id = promptpay_id
    db_session.commit()
    gs = [make_group(network, name=f"กลุ่มที่ {i + 1}") for i in range(groups)]
    committee = make_user(network, "committee")
    leader = make_user(network, "leader", group=gs[0])
    rnd = make_round(network, name="รอบปุ๋ย")
    offer = make_offer(rnd, tiers=[(0, "100.25")], pack_size=1, reference_price="110.00")
    for g in gs:
        place_order(rnd, g, [(offer, 12, 0)])
    db_session.get(BuyingRound, rnd.id).state = "closed"
    db_session.commit()
    combine.combine_round(rnd.id)
    invoices = {inv.group_id: inv for inv in db_session.scalars(select(Invoice).where(Invoice.round_id == rnd.id))}
    return {"network": network, "groups": gs, "round": rnd, "invoices": [invoices[g.id] for g in gs],
            "committee": committee, "h": token_for(committee), "leader": leader, "lh": token_for(leader)}
