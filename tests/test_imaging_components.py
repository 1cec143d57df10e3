"""numpy primitives: runs, connected components, morphology, rules, type lines."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from chequeverify.imaging.components import dilate, dilate_rect, erode, label, max_filter, runs
from chequeverify.imaging.ink import find_bar_stacks, find_rules, find_text_lines, ink_mask, stroke_width


def flood_labels(mask: np.ndarray, connectivity: int) -> int:
    """Reference: number of components by breadth-first search."""
    h, w = mask.shape
    seen = np.zeros_like(mask)
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if connectivity == 8:
        steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    n = 0
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        n += 1
        seen[y, x] = True
        queue = deque([(y, x)])
        while queue:
            a, b = queue.popleft()
            for dy, dx in steps:
                c, d = a + dy, b + dx
                if 0 <= c < h and 0 <= d < w and mask[c, d] and not seen[c, d]:
                    seen[c, d] = True
                    queue.append((c, d))
    return n


@pytest.mark.parametrize("connectivity", [4, 8])
def test_labels_match_a_flood_fill(connectivity):
    rng = np.random.default_rng(connectivity)
    for _ in range(40):
        mask = rng.random((int(rng.integers(1, 25)), int(rng.integers(1, 25)))) < rng.random()
        comps = label(mask, connectivity)
        assert comps.n == flood_labels(mask, connectivity)
        assert comps.area.sum() == mask.sum()
        assert ((comps.labels > 0) == mask).all()
        for k in range(comps.n):
            ys, xs = np.nonzero(comps.labels == k + 1)
            assert comps.box(k) == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


def test_runs_rebuild_the_mask():
    mask = np.random.default_rng(1).random((30, 40)) < 0.4
    r = runs(mask)
    rebuilt = np.zeros_like(mask)
    for row, start, end in zip(r.row, r.start, r.end):
        rebuilt[row, start:end] = True
    assert (rebuilt == mask).all() and len(r) > 0


def test_dilation_erosion_and_max_filter():
    mask = np.zeros((20, 30), bool)
    mask[10, 15] = True
    assert dilate(mask, 3).sum() == 9
    assert dilate_rect(mask, 21, 1).sum() == 21  # a long smear along the row
    assert erode(dilate(mask, 5), 5)[10, 15] and erode(dilate(mask, 5), 5).sum() == 1
    a = np.zeros((5, 5), np.uint8)
    a[2, 2] = 9
    assert max_filter(a, 3).tolist()[1] == [0, 9, 9, 9, 0]


def test_rules_go_and_crossing_strokes_stay():
    mask = np.zeros((60, 300), bool)
    mask[30:33, 10:290] = True  # a printed line
    mask[10:55, 150:154] = True  # a stroke crossing it
    rules = find_rules(mask, min_horizontal=120, min_vertical=0, max_thickness=5)
    assert rules[31, 20] and rules[31, 280]
    assert not rules[31, 151]  # the crossing is the pen's
    assert not rules[15, 151]


def test_a_hands_straight_line_wanders_and_is_not_a_rule():
    """The headline of a Devanagari word stays in one pixel row for as long as a
    printed line does, but its centre wanders by a pixel or two; print's does not,
    even tilted by a skewed scan."""
    mask = np.zeros((120, 320), bool)
    offsets = np.repeat([0, 1, 2, 1, 0, 1, 2, 2, 1, 0, 0, 1, 2, 1], 20)[:280]
    for x, off in zip(range(20, 300), offsets):  # the headline: 5 px thick, centre wandering
        mask[30 + off : 35 + off, x] = True
    for x in range(40, 300, 45):  # letters hanging from it
        mask[33:60, x : x + 3] = True
    for x in range(10, 310):  # a printed line under a 1 px in 200 px skew (what deskewing leaves)
        y = 90 + (x - 10) // 200
        mask[y : y + 3, x] = True
    straight = find_rules(mask, min_horizontal=120, min_vertical=0, max_thickness=8)
    assert straight[33, 100] and straight[91, 150]  # without the test, both are rules
    rules = find_rules(mask, min_horizontal=120, min_vertical=0, max_thickness=8, min_wobble=0.5)
    assert not rules[:70].any()  # the headline stays the pen's
    assert rules[91, 20] and rules[91, 150] and rules[92, 300]  # the skewed print is still a rule


def test_a_straight_headline_with_letters_hanging_from_it_is_not_a_rule():
    """Drawn as straight as print, a headline has its letters under much of it; a
    printed line that a signature sits on is touched from above only."""
    mask = np.zeros((160, 400), bool)
    mask[20:23, 40:232] = True  # a straight headline ...
    for x in range(45, 240, 30):  # ... and its letters (a stem, a bowl), a gap below it as a pen leaves
        mask[26:50, x : x + 3] = True
        mask[26:50, x - 15 : x - 12] = True
        mask[47:50, x - 15 : x + 3] = True
    mask[120:123, 10:390] = True  # a printed line ...
    for x in range(150, 260, 25):  # ... with a signature sitting on it
        mask[95:119, x : x + 3] = True
    rules = find_rules(mask, min_horizontal=120, min_vertical=0, max_thickness=8)
    assert rules[21, 100] and rules[121, 100]  # without the test, both are rules
    rules = find_rules(mask, min_horizontal=120, min_vertical=0, max_thickness=8, hang_reach=30, hang_max=400)
    assert not rules[:60].any()
    assert rules[121, 20] and rules[121, 380]


def test_barcode_bars_are_found_as_a_stack():
    mask = np.zeros((120, 80), bool)
    for y in range(10, 100, 6):
        mask[y : y + 3, 40:72] = True
    mask[50:80, 5:9] = True  # a lone upright stroke is not a barcode
    comps = label(mask)
    is_bar, codes = find_bar_stacks(comps)
    assert len(codes) == 1 and codes[0].horizontal
    lone = comps.labels[60, 6] - 1
    assert not is_bar[lone] and is_bar.sum() == comps.n - 1


def test_bars_merged_into_blocks_in_a_coarse_scan_belong_to_the_barcode():
    """At 100 dpi neighbouring bars blur into solid blocks of the bars' length; the code
    goes on across them (and a signature stroke beside the code is not taken with it)."""
    mask = np.zeros((160, 120), bool)
    for y in range(10, 70, 6):
        mask[y : y + 3, 60:100] = True  # thin bars
    mask[72:90, 60:100] = True  # bars merged into blocks, one after another
    mask[94:120, 60:100] = True
    mask[125:128, 5:55] = True  # a stroke beside the code
    comps = label(mask)
    is_bar, codes = find_bar_stacks(comps)
    assert len(codes) == 1
    assert is_bar[comps.labels[80, 70] - 1] and is_bar[comps.labels[110, 70] - 1]
    assert not is_bar[comps.labels[126, 20] - 1]
    assert codes[0].box[3] >= 120


def test_single_letters_with_ascenders_stay_in_their_line():
    """A sharp or bitonal scan keeps small type's letters apart: most of them are x-height
    letters, and the ascenders and capitals (two or more on one row) are the line's too."""
    mask = np.zeros((60, 300), bool)
    x = 10
    for tall in (1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0):  # "Please sign above"-like
        mask[(20 if tall else 24) : 34, x : x + 8] = True
        mask[(20 if tall else 24) + 2 : 32, x + 2 : x + 6] = False  # a letter, not a block
        x += 12
    comps = label(mask)
    lines = find_text_lines(comps, min_height=3, max_height=30)
    assert len(lines) == 1 and len(lines[0].members) == comps.n


def test_separate_handwritten_letters_on_one_row_do_not_join_over_wide_gaps():
    """Devanagari written without a headline: letter-sized pieces that start and end on the
    same rows, two letter widths apart, are not type. (Joining words that far, tried for the
    blurred "Please sign above" of 100 dpi scans, took a Hindi signature and a CEDAR one in
    black pen on synthetic cheques for type.)"""
    mask = np.zeros((60, 300), bool)
    for x in range(10, 250, 45):
        mask[20:34, x : x + 14] = True
        mask[23:31, x + 3 : x + 11] = False
    comps = label(mask)
    assert find_text_lines(comps, min_height=3, max_height=30, merged=False) == []


def test_printed_line_is_found_and_handwriting_is_not():
    img = Image.new("L", (420, 120), 255)
    draw = ImageDraw.Draw(img)
    draw.text((20, 20), "Please sign above", fill=0, font=ImageFont.load_default(size=18))
    draw.line([(40, 100), (90, 70), (130, 105), (180, 65), (240, 100)], fill=0, width=3)
    mask = np.asarray(img) < 128
    comps = label(mask)
    lines = find_text_lines(comps, min_height=3, max_height=30)
    assert len(lines) == 1
    x0, y0, x1, y1 = lines[0].box
    assert y1 <= 50 and x1 - x0 > 120


def test_stroke_width_and_ink_on_tinted_paper():
    grey = np.full((80, 200), 200, np.uint8)
    grey[::4, :] = 175  # a light pattern
    grey[30:34, 20:180] = 40  # a 4-pixel stroke
    mask = ink_mask(grey, window=21)
    assert mask[31, 100] and not mask[0, 100] and not mask[60, 100]
    assert 3.0 <= stroke_width(mask) <= 5.0
