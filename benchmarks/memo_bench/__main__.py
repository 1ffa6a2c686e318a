"""`python -m memo_bench {locomo,scale,report} ...`"""

from .cli import main

raise SystemExit(main())
