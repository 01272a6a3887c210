"""`python -m adapters.migrations new "what it does"` (what `make migration` runs)."""

import sys

from adapters.migrations import new

if len(sys.argv) != 3 or sys.argv[1] != "new" or not sys.argv[2].strip():
    sys.exit('usage: python -m adapters.migrations new "what the migration does"')
print(new(sys.argv[2]))
