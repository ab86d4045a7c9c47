#!/usr/bin/env bash
# Re-run the notebooks, export them as offline HTML pages, check every page in headless Chromium
# and take its screenshots, in one command:
#
#   scripts/notebook_screenshots.sh          # all notebooks (01–04 in quick mode, as CI runs them; 05 in lesson mode)
#   scripts/notebook_screenshots.sh 05       # only notebook 05 again (e.g. after new trained weights), then every page's shots
#   scripts/notebook_screenshots.sh --shots  # no notebook run: screenshots of the pages already in build/notebooks/html
#
# Pages: build/notebooks/html/*.html. Tiles of every page, to look at: build/notebooks/screenshots/NAME/NN.png.
# Previews committed for GitHub readers: notebooks/figures/NN-name.png (see notebooks/figures/README.md).
# Notebook 05's lesson mode opens the trained networks listed in reports/converged/trained.json.
# CIFAR-10 comes from $SCCONV_DATA, else ../shared/data next to the repository, else data/.
# Everything runs under nice -n 19. Exit status: the runner's if a notebook fails, else the checker's
# (1 when a page shows raw TeX, a KaTeX error, an undrawn figure or an output in error colours).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
if [ "${1:-}" != "--shots" ]; then
  SCCONV_QUICK=1 SCCONV_MODE=lesson nice -n 19 npm run notebooks -- --html --timeout 1800 "$@"
fi
status=0
nice -n 19 node --experimental-websocket --import tsx scripts/notebook_screenshots.ts || status=$?
echo "notebook_screenshots.sh: $(( $(date +%s) - start )) s in all"
exit "$status"
