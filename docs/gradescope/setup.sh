#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: it installs
# backtrace, from the wheel in the zip, in a virtual environment of its own
# (docs/platforms.md, "Gradescope"). The wheel is the version the exercise folder beside it
# was written with: its keys are what that version marks against.
set -eu
root="${AUTOGRADER_ROOT:-/autograder}"

shopt -s nullglob
wheels=("$root"/source/backtrace_cli-*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
    echo "setup.sh: the autograder zip must hold one backtrace_cli-*.whl (it holds" \
        "${#wheels[@]}); build it with: pip wheel --no-deps path/to/backtrace -w ." >&2
    exit 1
fi

apt-get update
apt-get install -y python3 python3-venv python3-pip
python3 -m venv "$root/venv"
"$root/venv/bin/pip" install "${wheels[0]}"   # and click, rich, numpy, pyyaml from PyPI
"$root/venv/bin/backtrace" --version
