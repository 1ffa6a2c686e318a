"""`python -m shared_core.bench {locomo,scale,report} ...`"""

from .cli import main

raise SystemExit(main())
