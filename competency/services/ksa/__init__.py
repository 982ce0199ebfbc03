"""The KSA competency model: versions and publish rules (versions.py), the draft editor (editor.py), and
files in (importer.py) and out (export.py)."""
