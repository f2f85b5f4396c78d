"""The names the backend uses from Pants, checked against each supported release's source.

`facts.py` reads a Pants release's source into the facts the backend relies on (the script
`extract.py` writes them to `pants_facts.json`); `uses.py` reads the backend's own modules into
what they use from Pants; `check.py` compares the two (see the package's README, "Pants versions").
"""
