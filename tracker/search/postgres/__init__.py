"""What the PostgreSQL search engine (tracker/services/pgsearch/) reads and writes, in pure
Python: ``document`` builds a letter's tsvector from the Whoosh engine's analysis
(``tracker.search.analysis``); ``query`` turns a parsed query into tsquery text."""
