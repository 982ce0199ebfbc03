"""The annual grade review: the rules (engine.py), runs and decisions (runs.py), grade standards
(standards.py), probation confirmations (probation.py) and the path to the next grade (path.py)."""
