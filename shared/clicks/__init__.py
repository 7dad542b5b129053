"""What a click is, shared by every place that answers one: the visitor's keyed hash and flags
(visitor.py), the data-centre ranges (datacentre.py) and the click id that carries the click, sealed (token.py)."""
