"""Fixtures of the paper's fields (from :mod:`hmm.fields`), a field beyond the paper, test settings.

Hypothesis runs derandomized (profile ``ci``, the default): every run draws the same examples,
so a test cannot fail by chance on one machine and pass on another. Set
``HYPOTHESIS_PROFILE=explore`` to search with fresh random examples.

Under ``make test`` (pytest-xdist, ``--dist loadfile``) each test of ``test_handouts.py``, which
executes a whole chapter, may go to a worker of its own (``pytest_xdist_make_scheduler``).
"""

import os

import numpy as np
import pytest
from hypothesis import settings

from hmm import fields

settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TWO_PI = 2 * np.pi


def field_slow(t, s):
    """A field beyond the paper's: slow drift in t, two harmonics in s, nonzero mean in x."""
    return np.stack(
        [
            0.3 + np.cos(TWO_PI * s) + 0.5 * np.sin(4 * np.pi * s),
            np.sin(t) * np.cos(TWO_PI * s),
            1.0 + 0.5 * t + 0.2 * np.sin(TWO_PI * s),
        ],
        -1,
    )


def averaged_slow(t):
    return np.array([0.3, 0.0, 1.0 + 0.5 * t])


@pytest.fixture
def circular():
    return fields.fig51_left


@pytest.fixture
def squared():
    return fields.fig53_right


@pytest.fixture
def slow():
    return field_slow


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, absent under -p no:xdist
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, except that each test of test_handouts.py is a group of its own.

    Every handout executes a whole chapter: one worker per handout, as for the notebooks under
    nbval, rather than the seven in a row on one worker."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class HandoutsApart(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("tests/test_handouts.py::"):
                return nodeid
            return super()._split_scope(nodeid)

    return HandoutsApart(config, log)
