r"""Fields that no figure of the paper uses, for checking :func:`hmm.choose_parameters` (beyond the paper).

The chooser models the flux from the field's harmonics; checking it on the paper's fields alone
would test it on the data it was written for. These six fields differ from the paper's in the
ways that matter to the model: several harmonics, a slow drift and a phase modulation in
:math:`t`, a smoothed square wave (many harmonics), a mean field that rotates, a fifth harmonic
only, and a train of narrow pulses. :data:`CASES` pairs each with a damping, an initial state and
a final time; ``benchmarks/choose_validation.py``, ``tests/test_choose.py`` and the
work-precision chapter use them.
"""

from __future__ import annotations

import numpy as np

TWO_PI = 2.0 * np.pi


def _grid(t, s) -> tuple[np.ndarray, np.ndarray]:
    return np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(s, dtype=float))


def _unit(v) -> np.ndarray:
    return np.asarray(v, dtype=float) / np.linalg.norm(v)


def three_harmonics(t, s) -> np.ndarray:
    """Harmonics 1, 2 and 3 in ``s``, constant in ``t``."""
    t, s = _grid(t, s)
    a = TWO_PI * s
    x = np.cos(a) + 0.4 * np.cos(3 * a)
    y = 0.5 * np.sin(2 * a) + 0.3 * np.sin(a)
    return np.stack([x, y, 1.2 + 0.3 * np.cos(a)], -1)


def drifting(t, s) -> np.ndarray:
    """One harmonic whose amplitude and phase drift slowly in ``t``, and a growing mean."""
    t, s = _grid(t, s)
    a = TWO_PI * s + 0.5 * t
    x = (1 + 0.5 * np.sin(0.8 * t)) * np.sin(a)
    return np.stack([x, np.cos(a), 0.8 + 0.4 * t / TWO_PI], -1)


def square_wave(t, s) -> np.ndarray:
    """A smoothed square wave :math:`\\tanh(2\\sin 2\\pi s)` (odd harmonics) and a slow mean."""
    t, s = _grid(t, s)
    a = TWO_PI * s
    return np.stack([np.tanh(2 * np.sin(a)), 0.5 * np.cos(a), 1 + 0.3 * np.sin(0.5 * t)], -1)


def rotating(t, s) -> np.ndarray:
    """A mean field rotating in ``t``, harmonics 1 and 2."""
    t, s = _grid(t, s)
    a = TWO_PI * s
    x = np.cos(0.3 * t) + 0.8 * np.sin(a)
    y = np.sin(0.3 * t) + 0.8 * np.cos(2 * a)
    return np.stack([x, y, 0.5 + 0.6 * np.cos(a)], -1)


def fifth_harmonic(t, s) -> np.ndarray:
    """A fifth harmonic with a slowly growing amplitude, harmonics 1 and 3 beside it."""
    t, s = _grid(t, s)
    a = TWO_PI * s
    x = 0.4 + 0.6 * np.cos(5 * a) * (1 + 0.1 * t)
    y = 0.7 * np.sin(a) * np.cos(0.4 * t)
    return np.stack([x, y, 1.0 + 0.2 * np.sin(3 * a)], -1)


def pulses(t, s) -> np.ndarray:
    """A train of narrow pulses (many harmonics) on a precessing mean."""
    t, s = _grid(t, s)
    pulse = np.exp(4 * (np.cos(TWO_PI * s) - 1))
    x = 0.6 * np.cos(0.2 * t) + pulse
    y = 0.6 * np.sin(0.2 * t) - 0.5 * pulse
    return np.stack([x, y, 0.9 + 0 * s], -1)


CASES = {
    "three harmonics": (three_harmonics, 0.5, _unit([1, -0.5, 0.3]), 5.0),
    "drift + phase": (drifting, 0.2, _unit([0.6, 0, 0.8]), TWO_PI),
    "square wave": (square_wave, 1.0, _unit([1, 1, 1]), 4.0),
    "rotating mean": (rotating, 0.0, _unit([0, 0.6, 0.8]), TWO_PI),
    "fifth harmonic": (fifth_harmonic, 0.7, _unit([0.2, -0.9, 0.4]), 5.0),
    "pulse train": (pulses, 0.05, _unit([1, 0.2, 0.1]), 6.0),
}
"""name -> ``(H, gamma, M0, T)``: each field with its damping, unit initial state and final time."""
