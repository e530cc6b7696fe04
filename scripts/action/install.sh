#!/usr/bin/env bash
# Install n8n-reconciler from the action's own checkout (the ref the workflow names in
# `uses: OWNER/n8n-reconciler@REF`), never from a registry name.
set -euo pipefail
source_dir="${RECONCILER_SOURCE:?set it to the checkout of n8n-reconciler (github.action_path)}"
python_bin="${PYTHON:-python3}"
"$python_bin" -m pip install --quiet --disable-pip-version-check "$source_dir"
reconciler --version
