#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
printf "\r\nr42-unit-pass\r\n"
