"""Matplotlib figures as data: URIs, so HTML reports are one self-contained file."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # no display in CI or containers

from matplotlib.figure import Figure


def png_data_uri(figure: Figure) -> str:
    """The figure as an embedded PNG, closed afterwards to free its memory."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
