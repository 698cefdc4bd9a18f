# SPDX-License-Identifier: GPL-3.0-or-later
# Package marker for `python3 -m unittest test/sim/test_pvesim.py` (see ../__init__.py).
