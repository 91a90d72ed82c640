#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: it installs
# backtrace in a virtual environment of its own. Put the exercise folder that
# `backtrace exercise CONFIG --variants N -o exercise` wrote next to this file in the zip
# (docs/platforms.md, "Gradescope").
set -eu
root="${AUTOGRADER_ROOT:-/autograder}"
# the version the exercise folder was written with: its keys are what this one marks against
BACKTRACE_VERSION="${BACKTRACE_VERSION:-}"

apt-get update
apt-get install -y python3 python3-venv python3-pip
python3 -m venv "$root/venv"
wheel=$(ls "$root"/source/backtrace_cli-*.whl 2>/dev/null | head -n 1 || true)
if [ -n "$wheel" ]; then
    "$root/venv/bin/pip" install "$wheel"          # a wheel shipped in the zip
elif [ -n "$BACKTRACE_VERSION" ]; then
    "$root/venv/bin/pip" install "backtrace-cli==$BACKTRACE_VERSION"
else
    "$root/venv/bin/pip" install backtrace-cli
fi
"$root/venv/bin/backtrace" --version
