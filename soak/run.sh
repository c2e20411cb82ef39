#!/bin/sh
# npm run soak: raise the descriptor limit to the hard one (10 000 idle connections need two
# descriptors each on this machine: one in the runner, one in the server), then run the suite.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node "$(dirname "$0")/run.mjs" "$@"
