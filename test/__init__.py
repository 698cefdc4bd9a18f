# SPDX-License-Identifier: GPL-3.0-or-later
# Makes test/ a regular package so that `python3 -m unittest test/sim/test_pvesim.py`
# imports this directory, not the standard library's own `test` package.
