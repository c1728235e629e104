"""Made-up data to fill a database with: the demo (``seeding.demo``) and benchmark-scale rows
(``seeding.benchseed``). Used by the CLI, the tests and ``bench/``; core never imports it."""
