"""The edge: what a value from outside may hold before anything else reads it.

`text` holds the one rule for strings; `guard` applies it to every request (body fields,
query, path and callback parameters, the headers the service keeps); the CLI applies it
to its arguments. The stores therefore never meet a byte they would refuse.
"""
