#!/bin/sh
printf " r42-unit-pass\n"
