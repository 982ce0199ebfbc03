"""Training: the catalogue and sessions, enrolments, the credit ledger with its requirements, mentoring,
certifications and course recommendations — one module each."""
