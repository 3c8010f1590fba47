"""Small statistics and labels shared across the layers: the label of a missing value, the Gini of counts and
the robust z of log counts (with its outlier threshold).

They live here, in the lowest layer, because the profile, cleaning, the models' demographics and the analysis
audits all use them; ``workbench.data.profile`` is only one of their users.

>>> gini(np.array([0, 0, 10])), float(robust_z(np.array([1, 2, 400]))[2] > OUTLIER_Z)
(0.6666666666666666, 1.0)
"""

from __future__ import annotations

import numpy as np

#: The label of a missing (NaN) value wherever values are grouped or shown: profile tables, segments, clusters.
MISSING_LABEL = "(missing)"
#: A user or item is an outlier when the modified z-score of its log count exceeds OUTLIER_Z (Iglewicz and
#: Hoaglin's 0.6745 (x - median) / MAD > 3.5); only the high side counts (bot-like activity).
OUTLIER_Z = 3.5


def gini(counts: np.ndarray) -> float:
    """Gini of counts: sum((2i - n - 1) c_i) / (n sum c), c ascending; 0.0 when empty or all zero."""
    c = np.sort(counts).astype(np.float64)
    n = len(c)
    if n == 0 or c.sum() == 0:
        return 0.0
    return float(np.sum((2 * np.arange(1, n + 1) - n - 1) * c) / (n * c.sum()))


def robust_z(counts: np.ndarray) -> np.ndarray:
    """Modified z-scores of log counts: 0.6745 (x - median) / MAD (Iglewicz and Hoaglin).

    When the MAD is 0, (x - median) / (1.253314 x mean absolute deviation); zeros when that is 0 too.

    >>> robust_z(np.array([1, 2, 2, 3, 4, 400])).round(1).tolist()
    [-1.7, -0.4, -0.4, 0.4, 1.0, 9.9]
    """
    x = np.log(np.asarray(counts, dtype=np.float64))
    deviation = x - np.median(x)
    mad = np.median(np.abs(deviation))
    scale = mad / 0.6745 if mad > 0 else 1.253314 * np.mean(np.abs(deviation))
    return deviation / scale if scale > 0 else np.zeros_like(x)
