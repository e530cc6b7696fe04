#!/usr/bin/env bash
# Validate (SARIF for code scanning) and plan offline (markdown for the comment).
# Needs no secret and no n8n: safe for pull requests from forks.
#
# Reads:  INPUT_PATH (repository, default .), INPUT_REF (default HEAD),
#         INPUT_STATE (a state snapshot; empty: plan from an empty state), OUT_DIR.
# Writes: OUT_DIR/validate.sarif, validate.junit.xml, comment.md, and the step outputs
#         valid, plan-exit-code, changes, comment-file, sarif-file to $GITHUB_OUTPUT.
set -uo pipefail
out="${OUT_DIR:?}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
ref="${INPUT_REF:-HEAD}"
marker='<!-- n8n-reconciler plan -->'
github_output="${GITHUB_OUTPUT:-/dev/null}"
cd "${INPUT_PATH:-.}" || exit 3

reconciler --no-color validate --repo . --ref "$ref" -o sarif > "$out/validate.sarif"
validate=$?
reconciler --no-color validate --repo . --ref "$ref" -o junit > "$out/validate.junit.xml"
valid=false
[ "$validate" -eq 0 ] && valid=true

plan=skipped
changes=false
if [ "$validate" -eq 0 ]; then
  state="${INPUT_STATE:-}"
  if [ -z "$state" ]; then
    state="$out/empty-state.sqlite"  # an empty state: everything shows as new
    : > "$state"
  fi
  reconciler --no-color plan --repo . --ref "$ref" --offline --state "$state" \
    -o markdown --detailed-exitcode > "$out/plan.md" 2> "$out/plan.err"
  plan=$?
  [ "$plan" -eq 2 ] && changes=true
fi

{
  echo "$marker"
  if [ "$validate" -ne 0 ]; then
    echo "### n8n-reconciler: the repository does not validate"
    echo
    echo '```text'
    reconciler --no-color validate --repo . --ref "$ref" 2>&1 | head -c 60000
    echo '```'
  elif [ "$plan" -eq 0 ] || [ "$plan" -eq 2 ]; then
    cat "$out/plan.md"
  else
    echo "### n8n-reconciler: the plan failed (exit $plan)"
    echo
    echo '```text'
    head -c 60000 "$out/plan.err"
    echo '```'
  fi
} > "$out/comment.md"

{
  echo "valid=$valid"
  echo "plan-exit-code=$plan"
  echo "changes=$changes"
  echo "comment-file=$out/comment.md"
  echo "sarif-file=$out/validate.sarif"
} >> "$github_output"

# Fail the step on an invalid repository or a failed plan (after writing every file).
if [ "$validate" -ne 0 ]; then
  exit 1
fi
if [ "$plan" -ne 0 ] && [ "$plan" -ne 2 ]; then
  exit 1
fi
exit 0
