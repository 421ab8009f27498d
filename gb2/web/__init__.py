"""gb2's web view (``gb2_web``): your projects, a project and a job, in a browser or on a phone.

A small ASGI application bound to the loopback interface. It holds the user's
:class:`gb2.session.Session` and calls the same library functions as the
commands, server-side: the grid token never reaches the browser. The browser is
let in by a random token in the URL the command prints, exchanged at once for an
HttpOnly, SameSite=Strict cookie (see :mod:`gb2.web.access`).

Pages are rendered on the server (Jinja2 templates, plots as inline SVG) with a
little vanilla JavaScript that refreshes each page's live part by polling. This
package is the UI layer: nothing outside it imports it, except the ``gb2_web`` and
``gb2_mock_server --web`` commands.
"""
