"""The Whoosh search engine (the only package that imports Whoosh): ``engine.WhooshEngine``.

``schema`` the index's fields and version; ``query`` matching, BM25F and facets over a small
postings interface (no Whoosh); ``w3`` every use of Whoosh's internals, with a fallback to
its public API; ``merges`` the merge policy; ``helper`` the second process of large writes.
"""
