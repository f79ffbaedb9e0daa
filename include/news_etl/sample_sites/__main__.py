"""`python -m news_etl.sample_sites`: serve the sample publishers until Ctrl-C."""

from news_etl.sample_sites.server import main

raise SystemExit(main())
