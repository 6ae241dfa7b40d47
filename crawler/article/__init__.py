"""Page -> article, pure: no Redis, no Scrapy.

:func:`~crawler.article.extract.extract_article` reads a page,
:func:`~crawler.article.normalize.normalize_article` turns what it found into
the stored article, :mod:`~crawler.article.fingerprints` fingerprints its body.
The text rules they share (spaces, word count, boilerplate, bylines, repeats)
are written once, in :mod:`~crawler.article.text`.
"""
