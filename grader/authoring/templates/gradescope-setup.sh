#!/usr/bin/env bash
# Gradescope runs this once when the autograder image is built (Ubuntu base image, as root).
set -euo pipefail
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y python3.11 python3.11-venv bubblewrap util-linux
python3.11 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install -e /autograder/source
