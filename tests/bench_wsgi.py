"""What `make bench` serves: the site, with each response's SQL query count in a header.

The count goes in `X-Bench-Queries` outside Django, so a page cache never stores it.
"""

from django.db import connection

from config.wsgi import application as site


def application(environ, start_response):
    queries = 0

    def count_query(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    # Django calls start_response once the view has run, so the count is complete by then.
    def start_response_with_count(status, headers, exc_info=None):
        headers.append(("X-Bench-Queries", str(queries)))
        return start_response(status, headers, exc_info)

    with connection.execute_wrapper(count_query):
        return site(environ, start_response_with_count)
