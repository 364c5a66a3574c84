# Colab, or any Python without the book's package: install `hmm` from
# the repository, and `myst-nb` (for `glue`), and use the book's figure
# style. Where `hmm` is installed this cell does nothing.
import importlib.util

if importlib.util.find_spec("hmm") is None:
    import subprocess
    import sys

    import matplotlib.pyplot as plt

    REPO = "hmm-ll/temporal-upscaling-book"
    RAW = f"https://raw.githubusercontent.com/{REPO}/main"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet"]
        + [f"hmm @ git+https://github.com/{REPO}", "myst-nb==1.4.0"],
        check=True,
    )
    importlib.invalidate_caches()
    plt.style.use(f"{RAW}/book/matplotlibrc")
