"""`python -m benchlib`: see benchlib.cli."""

from benchlib.cli import main

raise SystemExit(main())
