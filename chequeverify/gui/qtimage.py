"""Turning the service's images (numpy arrays, Pillow images) into Qt ones.

QImage may be built on any thread (QPixmap only on the UI thread), so
workers convert and the UI thread only wraps the result in a pixmap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap


def grey_to_qimage(grey: np.ndarray) -> QImage:
    """``H×W uint8`` (0 = ink, 255 = paper) → an 8-bit grey QImage (a copy: owns its pixels)."""
    a = np.ascontiguousarray(grey, dtype=np.uint8)
    if a.ndim != 2:
        raise ValueError(f"expected an H×W array, got shape {a.shape}")
    h, w = a.shape
    return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_Grayscale8).copy()


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """``H×W×3 uint8`` → an RGB QImage (a copy)."""
    a = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = a.shape
    return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_RGB888).copy()


def pil_to_qimage(image: Any) -> QImage:
    """A Pillow image (any mode) → QImage, without importing Pillow here."""
    if image.mode == "L":
        return grey_to_qimage(np.asarray(image))
    return rgb_to_qimage(np.asarray(image.convert("RGB")))


def qimage_to_grey(image: QImage) -> np.ndarray:
    """QImage → ``H×W uint8`` grey array (a copy)."""
    g = image.convertToFormat(QImage.Format.Format_Grayscale8)
    w, h, stride = g.width(), g.height(), g.bytesPerLine()
    buf = np.frombuffer(g.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, :w].copy()


def fitted_pixmap(image: QImage, size: QSize, dpr: float) -> QPixmap:
    """``image`` scaled (smoothly, keeping its aspect) to fit ``size`` logical pixels at ``dpr``."""
    if image.isNull() or size.isEmpty():
        return QPixmap()
    target = QSize(max(1, round(size.width() * dpr)), max(1, round(size.height() * dpr)))
    scaled = image.scaled(target, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    pm = QPixmap.fromImage(scaled)
    pm.setDevicePixelRatio(dpr)
    return pm
