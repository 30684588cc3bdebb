"""Draw one task as a picture (Pillow only): a contact sheet of its images, or a sinusoid plot.

``render_task(task)`` returns a ``PIL.Image.Image``; ``save_png(image, path)`` writes it
atomically. A classification sheet shows a header (dataset, protocol, split, N-way K-shot
Q-query, and a clear "SYNTHETIC glyphs" line when the images are not Omniglot), the support
set (one column per class, its K drawings below the "class c" label), then the query set in
the same columns, every image captioned with its provenance. Ink is drawn dark on light.
A sinusoid task is drawn as a plot: the true curve, the K support points, the query points.
"""

from __future__ import annotations

import io
import math
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.core.atomic_files import write_atomically
from engine.core.tasks import ImageInfo, Task

BACKGROUND = (250, 250, 246)
TEXT = (28, 28, 34)
MUTED = (110, 110, 120)
WARNING = (176, 32, 32)
FRAME = (200, 200, 196)
SUPPORT_BAND = (232, 240, 250)
QUERY_BAND = (250, 240, 226)
INK_DARK = 24  # grey level of full ink; paper is 255
MAX_ROWS = 5  # images per class column before it wraps into another sub-column
CURVE = (40, 70, 150)
SUPPORT_DOT = (222, 110, 20)
QUERY_DOT = (60, 150, 90)


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    names = ("DejaVuSans-Bold.ttf", "Arial Bold.ttf") if bold else ("DejaVuSans.ttf", "Arial.ttf")
    for name in names:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _text_width(font, text: str) -> float:
    return font.getlength(text) if hasattr(font, "getlength") else 6 * len(text)


def _fit_text(font, text: str, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` pixels."""
    if _text_width(font, text) <= width:
        return text
    while text and _text_width(font, text + "…") > width:
        text = text[:-1]
    return text + "…"


def _is_synthetic(task: Task) -> bool:
    return task.dataset == "glyphs" or any(i.synthetic for i in task.support_info + task.query_info)


def _short_character(name: str) -> str:
    return "ch" + name[len("character") :] if name.startswith("character") else name


def caption_lines(info: ImageInfo) -> tuple[str, str]:
    """Two short caption lines: the alphabet, then character, drawer and rotation."""
    second = f"{_short_character(info.character)} · d{info.drawer}"
    if info.rotation:
        second += f" · {info.rotation}°"
    return info.alphabet.replace("_", " "), second


def header_lines(task: Task) -> list[tuple[str, tuple[int, int, int], bool]]:
    """(text, colour, bold) lines describing the task."""
    shape = (
        f"{task.ways}-way {task.shots}-shot {task.queries}-query"
        if task.is_classification
        else f"{task.shots}-shot, {task.queries} query points"
    )
    lines = [(f"{task.dataset} · protocol {task.protocol} · {task.split} split · {shape}", TEXT, True)]
    if task.is_classification:
        lines.append(
            (
                f"support {task.ways}×{task.shots}, query {task.ways}×{task.queries}; "
                f"labels 0..{task.ways - 1} are re-drawn for every task",
                MUTED,
                False,
            )
        )
        if task.dataset == "omniglot":
            from engine.data.protocols import PROTOCOLS

            if task.protocol in PROTOCOLS:
                lines.append((f"protocol {task.protocol}: {PROTOCOLS[task.protocol].summary}", MUTED, False))
        if _is_synthetic(task):
            lines.append(("SYNTHETIC glyphs: procedurally drawn characters, not Omniglot", WARNING, True))
    if task.description:
        lines.append((task.description, TEXT, False))
    return lines


def _tile(image: np.ndarray, scale: int) -> Image.Image:
    """One ``[28, 28]`` float image with ink = 1, drawn dark on light and enlarged."""
    ink = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    grey = (255.0 - ink * (255.0 - INK_DARK)).round().astype(np.uint8)
    tile = Image.fromarray(grey, mode="L")
    if scale != 1:
        tile = tile.resize((tile.width * scale, tile.height * scale), Image.Resampling.NEAREST)
    return tile.convert("RGB")


def _by_class(y: np.ndarray, ways: int) -> list[np.ndarray]:
    return [np.flatnonzero(y == c) for c in range(ways)]


def render_task(task: Task, scale: int = 3) -> Image.Image:
    """The task as an RGB picture: a contact sheet for classification, a plot for the sinusoid."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    if not task.is_classification:
        return _render_regression(task, scale)
    return _render_classification(task, scale)


def _render_classification(task: Task, scale: int) -> Image.Image:
    img = 28 * scale
    with_captions = scale >= 2
    cap_font = _font(max(9, 3 * scale + 1))
    cap_h = (2 * (cap_font.size + 2) + 2) if with_captions else 0
    cell_w = max(img + 8, 104) if with_captions else img + 6
    cell_h = img + cap_h + 8
    pad = 16
    head_font, head_bold = _font(15), _font(15, bold=True)
    label_font = _font(13, bold=True)
    section_font = _font(14, bold=True)

    y_s = task.y_support.numpy()
    y_q = task.y_query.numpy()
    x_s = task.x_support.numpy()[:, 0]
    x_q = task.x_query.numpy()[:, 0]
    support = _by_class(y_s, task.ways)
    query = _by_class(y_q, task.ways)
    per_class_max = max([len(ix) for ix in support] + [len(ix) for ix in query] + [1])
    sub_cols = max(1, math.ceil(per_class_max / MAX_ROWS))
    group_w = sub_cols * cell_w
    group_gap = 10

    def grid(m: int) -> tuple[int, int]:
        """(rows, columns) of a class's m images: one column up to MAX_ROWS, then balanced."""
        cols = max(1, math.ceil(m / MAX_ROWS))
        return math.ceil(m / cols), cols

    def block_height(groups: list[np.ndarray]) -> int:
        return max([grid(len(ix))[0] for ix in groups] + [1]) * cell_h

    header = header_lines(task)
    line_h = 21
    header_h = pad + line_h * len(header) + 6
    section_title_h = 24
    col_label_h = 20
    support_h = section_title_h + col_label_h + block_height(support) + 10
    query_h = section_title_h + col_label_h + block_height(query) + 10
    width = max(
        2 * pad + task.ways * group_w + (task.ways - 1) * group_gap,
        int(2 * pad + max(_text_width(head_bold, t) for t, _, _ in header)),
    )
    height = header_h + support_h + 12 + query_h + pad
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)

    y = pad
    for text, colour, bold in header:
        draw.text((pad, y), text, fill=colour, font=head_bold if bold else head_font)
        y += line_h
    y = header_h

    def section(
        top: int,
        h: int,
        title: str,
        band,
        xs: np.ndarray,
        groups: list[np.ndarray],
        infos: tuple[ImageInfo, ...],
    ) -> None:
        draw.rectangle((pad // 2, top, width - pad // 2, top + h), fill=band)
        draw.text((pad, top + 4), title, fill=TEXT, font=section_font)
        row_top = top + section_title_h
        for c, indices in enumerate(groups):
            gx = pad + c * (group_w + group_gap)
            label = f"class {c}"
            if _text_width(label_font, label) > group_w - 2:
                label = str(c)
            draw.text(
                (gx + (group_w - _text_width(label_font, label)) / 2, row_top),
                label,
                fill=TEXT,
                font=label_font,
            )
            _, used_cols = grid(len(indices))
            x0 = gx + (group_w - used_cols * cell_w) // 2
            for j, index in enumerate(indices):
                row, col = divmod(j, used_cols)
                cx = x0 + col * cell_w
                cy = row_top + col_label_h + row * cell_h
                ix = cx + (cell_w - img) // 2
                sheet.paste(_tile(xs[index], scale), (ix, cy))
                draw.rectangle((ix - 1, cy - 1, ix + img, cy + img), outline=FRAME)
                if with_captions and index < len(infos):
                    for k, line in enumerate(caption_lines(infos[index])):
                        line = _fit_text(cap_font, line, cell_w - 4)
                        tx = cx + (cell_w - _text_width(cap_font, line)) / 2
                        draw.text(
                            (tx, cy + img + 2 + k * (cap_font.size + 2)), line, fill=MUTED, font=cap_font
                        )

    section(
        y,
        support_h,
        f"Support set: {task.shots} per class (the learner adapts on these)",
        SUPPORT_BAND,
        x_s,
        support,
        task.support_info,
    )
    y += support_h + 12
    section(
        y,
        query_h,
        f"Query set: {task.queries} per class (the learner is scored on these)",
        QUERY_BAND,
        x_q,
        query,
        task.query_info,
    )
    return sheet


def _render_regression(task: Task, scale: int) -> Image.Image:
    ss = 2  # drawn at twice the size, then downsampled, for smooth lines
    k = ss * scale / 3.0
    width, height = int(640 * k), int(440 * k)
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font, bold, small = _font(int(15 * k)), _font(int(15 * k), bold=True), _font(int(12 * k))

    header = header_lines(task)
    y = int(12 * k)
    for text, colour, is_bold in header:
        draw.text((int(16 * k), y), text, fill=colour, font=bold if is_bold else font)
        y += int(21 * k)
    left, right = int(56 * k), width - int(24 * k)
    legend_y = y + int(8 * k)
    top, bottom = legend_y + int(14 * k), height - int(40 * k)

    xg = task.x_grid.numpy().ravel()
    yg = task.y_grid.numpy().ravel()
    xs, ys = task.x_support.numpy().ravel(), task.y_support.numpy().ravel()
    xq, yq = task.x_query.numpy().ravel(), task.y_query.numpy().ravel()
    x_lo, x_hi = float(xg.min()), float(xg.max())
    y_lim = max(5.5, 1.1 * float(np.abs(np.concatenate([yg, ys, yq])).max()))

    def px(x: np.ndarray | float) -> np.ndarray:
        return left + (np.asarray(x) - x_lo) / (x_hi - x_lo) * (right - left)

    def py(v: np.ndarray | float) -> np.ndarray:
        return bottom - (np.asarray(v) + y_lim) / (2 * y_lim) * (bottom - top)

    draw.rectangle((left, top, right, bottom), fill=(255, 255, 255), outline=FRAME, width=max(1, int(k)))
    for xt in range(math.ceil(x_lo), math.floor(x_hi) + 1):
        x = float(px(xt))
        draw.line((x, top, x, bottom), fill=(236, 236, 232) if xt else FRAME, width=max(1, int(k)))
        draw.text((x, bottom + int(6 * k)), str(xt), fill=MUTED, font=small, anchor="mt")
    step = 2 if y_lim < 12 else 5
    for yt in range(-int(y_lim // step) * step, int(y_lim) + 1, step):
        yy = float(py(yt))
        draw.line((left, yy, right, yy), fill=(236, 236, 232) if yt else FRAME, width=max(1, int(k)))
        draw.text((left - int(6 * k), yy), str(yt), fill=MUTED, font=small, anchor="rm")
    draw.text(((left + right) / 2, height - int(6 * k)), "x", fill=MUTED, font=small, anchor="mb")

    curve = np.stack([px(xg), py(yg)], axis=1).ravel().tolist()
    draw.line(curve, fill=CURVE, width=max(1, int(2.5 * k)), joint="curve")
    r_q = 4 * k
    for x, v in zip(px(xq), py(yq)):
        draw.ellipse((x - r_q, v - r_q, x + r_q, v + r_q), outline=QUERY_DOT, width=max(1, int(1.8 * k)))
    r_s = 6 * k
    for x, v in zip(px(xs), py(ys)):
        draw.ellipse(
            (x - r_s, v - r_s, x + r_s, v + r_s), fill=SUPPORT_DOT, outline=TEXT, width=max(1, int(k))
        )

    # Legend, one line between the header and the plot.
    lx = left
    for label, kind in (
        ("true function", "line"),
        (f"support ({len(xs)})", "support"),
        (f"query ({len(xq)})", "query"),
    ):
        if kind == "line":
            draw.line((lx, legend_y, lx + int(22 * k), legend_y), fill=CURVE, width=max(1, int(2.5 * k)))
        elif kind == "support":
            c = lx + int(11 * k)
            draw.ellipse((c - r_s, legend_y - r_s, c + r_s, legend_y + r_s), fill=SUPPORT_DOT, outline=TEXT)
        else:
            c = lx + int(11 * k)
            draw.ellipse(
                (c - r_q, legend_y - r_q, c + r_q, legend_y + r_q),
                outline=QUERY_DOT,
                width=max(1, int(1.8 * k)),
            )
        draw.text((lx + int(30 * k), legend_y), label, fill=TEXT, font=small, anchor="lm")
        lx += int(30 * k + _text_width(small, label) + 24 * k)
    return image.resize((width // ss, height // ss), Image.Resampling.LANCZOS)


def save_png(image: Image.Image, path: str | os.PathLike[str]) -> Path:
    """Write ``image`` as PNG to ``path`` atomically: a temporary file beside it, then a rename."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return write_atomically(path, buffer.getbuffer())
