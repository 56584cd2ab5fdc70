#!/usr/bin/env bash
# Gradescope runs this once when the autograder image is built (Ubuntu base image, as root). AUTOGRADER_ROOT
# (default /autograder, Gradescope's layout) lets the project's tests run it elsewhere, as run_autograder does.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y python3.11 python3.11-venv bubblewrap util-linux
python3.11 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --upgrade pip
# Editable: run_autograder grades with the bundle's source (grader, hidden suites, solutions/ beside them),
# which lies outside every directory the sandbox shows to learner code.
"$ROOT/venv/bin/pip" install -e "$ROOT/source"
