# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := competency

.PHONY: notify run test lint install install-test translations db seed grades serve demo-code update-translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

translations:
	$(BIN)/pybabel compile --use-fuzzy -d competency/translations

# A random key that signs sessions, made once and kept (the app refuses to start without a strong one).
instance/secret_key:
	mkdir -p instance
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > instance/secret_key

db: instance/secret_key
	mkdir -p instance
	$(BIN)/flask db upgrade

seed:
	$(BIN)/flask seed

# Apply the grade changes whose effective date has come (production runs `flask grade apply` daily from cron).
grades:
	$(BIN)/flask grade apply

# Tell the reminders that are due now (the web process's job consumer then runs it every 10 minutes), so the demo's
# overdue probation is in the supervisor's bell from the start.
notify:
	$(BIN)/flask notify run

# The current two-factor code of the demo hr and admin accounts (their secret is in seeds/demo.yaml).
demo-code:
	@$(BIN)/python -c "import pyotp, yaml; print(pyotp.TOTP(yaml.safe_load(open('seeds/demo.yaml'))['demo_two_factor_secret']).now())"

serve:
	$(BIN)/flask run --host 127.0.0.1 --port 5000

run: install translations instance/secret_key db seed grades notify serve

lint: install-test
	$(BIN)/ruff check .

test: install-test translations lint
	$(BIN)/python -m pytest

# Re-extract the translatable strings and merge them into the catalogues (then fill in the zh ones).
update-translations:
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k lazy_ngettext:1,2 --ignore-dirs='.*' -o competency/translations/messages.pot --no-location --sort-output --no-wrap .
	$(BIN)/pybabel update -i competency/translations/messages.pot -d competency/translations --no-fuzzy-matching --ignore-obsolete --no-wrap

clean:
	rm -rf $(VENV) instance/staged
