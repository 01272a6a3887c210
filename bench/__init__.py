"""`make bench`: the service as users run it, driven over loopback, beside raw ceilings.

See bench/README.md for what each figure means and how to run it.
"""
