"""`python -m readiness_magics` is the `readiness` command."""
import sys

from .cli.main import main

sys.exit(main())
