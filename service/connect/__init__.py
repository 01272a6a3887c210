"""The owner's journey: the invitation link, the hosted pages under /connect/, and the
tenant settings they show. Pages are server-rendered Jinja2 through litestar's template
engine, with one stylesheet served here, no script and a strict Content-Security-Policy."""
