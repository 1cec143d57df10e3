"""Reading scans: every format a bank produces, and every way a file can be bad."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from chequeverify import config
from chequeverify.errors import InvalidInput, UnreadableScan
from chequeverify.imaging import load_pages, load_scan, scan_info


def cheque_like(w: int = 240, h: int = 110) -> Image.Image:
    """A small RGB image with a dark mark in the top-left corner (to check orientation)."""
    a = np.full((h, w, 3), 230, np.uint8)
    a[5:25, 5:45] = (20, 30, 140)
    return Image.fromarray(a, "RGB")


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


# --- formats ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "TIFF"])
def test_each_format_loads_as_rgb_of_the_same_size(fmt, tmp_path):
    path = tmp_path / f"scan.{fmt.lower()}"
    cheque_like().save(path, fmt)
    image = load_scan(path)
    assert image.mode == "RGB" and image.size == (240, 110)
    assert np.asarray(image)[15, 20, 2] > np.asarray(image)[15, 20, 0] + 60  # the blue mark survived


def test_bytes_and_file_objects_are_accepted():
    data = encode(cheque_like(), "PNG")
    assert load_scan(data).size == (240, 110)
    assert load_scan(io.BytesIO(data)).size == (240, 110)


def test_grey_scan_stays_grey():
    image = load_scan(encode(cheque_like().convert("L"), "PNG"))
    assert image.mode == "L"


def test_multi_page_tiff_front_and_back(tmp_path):
    front = cheque_like()
    back = Image.new("L", (240, 110), 200)
    path = tmp_path / "cheque.tif"
    front.save(path, "TIFF", save_all=True, append_images=[back])
    pages = load_pages(path)
    assert len(pages) == 2
    assert pages[0].mode == "RGB" and pages[1].mode == "L"
    assert load_scan(path, page=1).mode == "L"
    assert scan_info(path).pages == 2
    with pytest.raises(InvalidInput, match="2 pages"):
        load_scan(path, page=2)


def test_pages_beyond_the_limit_are_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "MAX_PAGES", 2)
    path = tmp_path / "many.tif"
    pages = [Image.new("L", (40, 30), 100 + i) for i in range(4)]
    pages[0].save(path, "TIFF", save_all=True, append_images=pages[1:])
    assert len(load_pages(path)) == 2


def test_ccitt_group4_bilevel_tiff_as_in_image_cash_letters():
    bilevel = Image.new("1", (400, 180), 1)
    bilevel.paste(0, (50, 60, 150, 70))
    data = encode(bilevel, "TIFF", compression="group4")
    assert scan_info(data).format == "TIFF"
    image = load_scan(data)
    assert image.mode == "L"
    a = np.asarray(image)
    assert a[65, 100] == 0 and a[10, 10] == 255


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_grey_keeps_its_full_scale(fmt):
    a = np.full((60, 100), 60000, np.uint16)
    a[20:30, 20:60] = 4000
    sixteen = Image.fromarray(a)
    assert sixteen.mode == "I;16"
    image = load_scan(encode(sixteen, fmt))
    assert image.mode == "L"
    out = np.asarray(image)
    assert out[0, 0] > 225 and out[25, 30] < 25


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb(fmt):
    image = load_scan(encode(cheque_like().convert("CMYK"), fmt))
    assert image.mode == "RGB" and image.size == (240, 110)
    a = np.asarray(image).astype(int)
    assert a[15, 20, 2] > a[15, 20, 0] + 40  # still blue
    assert a[80, 200].min() > 180  # paper still light


def test_palette_with_and_without_transparency():
    pal = cheque_like().convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    assert load_scan(encode(pal, "PNG")).mode == "RGB"
    pal.info["transparency"] = 0
    image = load_scan(encode(pal, "PNG", transparency=0))
    assert image.mode == "RGB"


def test_transparent_png_sits_on_white_paper():
    rgba = Image.new("RGBA", (80, 40), (0, 0, 0, 0))
    rgba.paste((10, 10, 10, 255), (10, 10, 30, 30))
    a = np.asarray(load_scan(encode(rgba, "PNG")))
    assert a[0, 0].min() == 255 and a[20, 20].max() < 30


def test_exif_orientation_is_applied(tmp_path):
    # stored landscape with the mark top-left; orientation 6 = display turned 90° clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    cheque_like().save(path, "JPEG", exif=exif)
    assert scan_info(path).orientation == 6
    image = load_scan(path)
    assert image.size == (110, 240)
    a = np.asarray(image).astype(int)
    # turned clockwise: the mark is now at the top right
    assert a[20, 100, 2] > a[20, 100, 0] + 40
    assert a[20, 5, 2] < a[20, 5, 0] + 20


def test_scan_info_reads_resolution_without_decoding():
    data = encode(cheque_like(), "PNG", dpi=(200, 200))
    info = scan_info(data)
    assert info.format == "PNG" and info.size == (240, 110) and info.pages == 1
    assert info.dpi == pytest.approx((200, 200), abs=0.5)


# --- bad files -------------------------------------------------------------------


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(UnreadableScan, match="empty"):
        load_scan(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(UnreadableScan, match="does not exist"):
        load_scan(tmp_path / "nowhere.png")
    with pytest.raises(UnreadableScan, match="folder"):
        load_scan(tmp_path)


def test_text_file_renamed_jpg(tmp_path):
    path = tmp_path / "cheque.jpg"
    path.write_text("Dear customer,\nplease find attached the cheque.\n")
    with pytest.raises(UnreadableScan, match="text file"):
        load_scan(path)


def test_pdf_is_refused_with_advice():
    with pytest.raises(UnreadableScan, match="PDF"):
        load_scan(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")


def test_unsupported_format_is_named():
    with pytest.raises(UnreadableScan, match="GIF"):
        load_scan(encode(cheque_like().convert("P"), "GIF"))
    with pytest.raises(UnreadableScan, match="JPEG, PNG, BMP or TIFF"):
        load_scan(b"\x00\x01\x02\x03" * 64)


def test_corrupt_jpeg(tmp_path):
    data = bytearray(encode(cheque_like(400, 200), "JPEG"))
    rng = np.random.default_rng(0)
    for i in rng.integers(200, len(data) - 10, 300):
        data[i] = int(rng.integers(256))
    path = tmp_path / "corrupt.jpg"
    path.write_bytes(bytes(data))
    try:
        image = load_scan(path)  # JPEG decoders are forgiving: a damaged but decodable image is fine
    except UnreadableScan:
        return
    assert image.size == (400, 200)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF"])
def test_truncated_file(fmt):
    data = encode(cheque_like(400, 200), fmt)
    with pytest.raises(UnreadableScan):
        load_scan(data[: len(data) // 2])


def test_damaged_png_header():
    data = bytearray(encode(cheque_like(), "PNG"))
    data[16:24] = b"\xff" * 8  # width and height
    with pytest.raises(UnreadableScan):
        load_scan(bytes(data))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width×height`` but holds almost no data (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_absurd_dimensions_are_refused_before_decoding():
    with pytest.raises(UnreadableScan, match="too large"):
        load_scan(_png_header_only(200_000, 100_000))
    with pytest.raises(UnreadableScan, match="too large"):
        scan_info(_png_header_only(9_000, 9_000))


def test_decompression_bomb_within_pillows_limit_but_over_ours(monkeypatch):
    monkeypatch.setattr(config, "MAX_IMAGE_PIXELS", 100_000)
    bomb = encode(Image.new("1", (1000, 1000), 1), "PNG")  # 1 Mpx in a few hundred bytes
    assert len(bomb) < 2000
    with pytest.raises(UnreadableScan, match="too large"):
        load_scan(bomb)


def test_too_many_bytes(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (100, 100), dtype=np.uint8)).save(path)
    with pytest.raises(UnreadableScan, match="too large"):
        load_scan(path)
    with pytest.raises(UnreadableScan, match="too large"):
        load_scan(path.read_bytes())


def test_too_small_to_hold_a_signature():
    with pytest.raises(UnreadableScan, match="too small"):
        load_scan(encode(Image.new("L", (8, 8), 255), "PNG"))


def test_bad_page_number(tmp_path):
    with pytest.raises(InvalidInput):
        load_scan(encode(cheque_like(), "PNG"), page=-1)
    with pytest.raises(InvalidInput, match="1 page"):
        load_scan(encode(cheque_like(), "PNG"), page=1)


def test_not_a_path_or_bytes():
    with pytest.raises(InvalidInput):
        load_scan(12345)  # type: ignore[arg-type]
