#!/bin/sh
printf "\r\nr42-unit-pass\r\n"
